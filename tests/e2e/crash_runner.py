"""The campaign sender the crash-safety tests start (and kill) as a separate process.

``python -m tests.e2e.crash_runner`` reads the usual settings from the environment plus
``CRASH_PG_SCHEMA`` (the test run's PostgreSQL schema) and ``CRASH_LEASE_SECONDS``, runs the
real dispatcher with the real channel adapters and platform limits, and exits 0 once no outbox
row is pending any more (or 2 after ``CRASH_TIMEOUT_SECONDS``).
"""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import timedelta

from bot.bootstrap import bootstrap
from bot.config import Settings
from bot.server import build_channels
from jobs.dispatcher import OutboxDispatcher
from jobs.ratelimit import PlatformLimits
from storage.db import create_engine


async def main() -> int:
    settings = Settings()
    schema = os.environ.get("CRASH_PG_SCHEMA")
    args = {"server_settings": {"search_path": schema}} if schema else {}
    engine = create_engine(settings.database_url, connect_args=args) if args else None
    app = await bootstrap(settings, engine=engine, migrate=False)
    channels = build_channels(app)
    dispatcher = OutboxDispatcher(
        app.uow,
        app.clock,
        {channel.channel: channel for channel in channels},
        limiter=PlatformLimits.from_settings(settings),
        lease=timedelta(seconds=float(os.environ.get("CRASH_LEASE_SECONDS", "2"))),
        poll_seconds=0.2,
        tz=settings.tz,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(dispatcher.run(stop))
    code = 2
    try:
        async with asyncio.timeout(float(os.environ.get("CRASH_TIMEOUT_SECONDS", "60"))):
            while True:
                async with app.uow() as uow:
                    if await uow.outbox.pending_count() == 0:
                        code = 0
                        break
                await asyncio.sleep(0.2)
    except TimeoutError:
        pass
    finally:
        stop.set()
        await task
        for channel in channels:
            await channel.close()
        await app.close()
    return code


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
