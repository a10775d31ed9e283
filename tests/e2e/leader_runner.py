"""A ``serve``-like process for the two-process test: the real leader election, scheduler and
dispatcher (``bot.server._leading``) on this run's schema, with one slow periodic job.

``python -m tests.e2e.leader_runner`` reads the usual settings plus ``LEADER_PG_SCHEMA``; the job
queues one Telegram greeting per member (key ``greet:<day>:<member>``, one commit each,
``LEADER_STEP_SECONDS`` apart, due ``LEADER_DUE_SECONDS`` later so that the kill lands mid-job,
not mid-send). It prints ``up`` once started and runs until killed.
"""

from __future__ import annotations

import asyncio
import os
from datetime import timedelta

from sqlalchemy import select

from bot.bootstrap import App, bootstrap
from bot.config import Settings
from bot.core.messages import Reply
from bot.core.wire import replies_to_payload
from bot.server import _leading, build_channels
from jobs import scheduler
from jobs.periods import Period, PeriodicJob, daily_at
from storage.db import create_engine
from storage.models import ChannelIdentity


async def greet_everyone(app: App, period: Period) -> dict[str, int]:
    """Idempotent per member: the outbox key makes a re-run skip who was already queued."""
    async with app.uow() as uow:
        rows = (
            await uow.session.execute(select(ChannelIdentity.member_id, ChannelIdentity.user_id))
        ).all()
    due = float(os.environ.get("LEADER_DUE_SECONDS", "3"))
    step = float(os.environ.get("LEADER_STEP_SECONDS", "0.2"))
    queued = 0
    for member_id, user_id in sorted(rows):
        now = app.clock.now()
        payload = replies_to_payload([Reply(text=f"Hello {member_id}")])
        async with app.uow() as uow:
            added = await uow.outbox.enqueue(
                f"greet:{period.key}:{member_id}",
                "telegram",
                user_id,
                payload,
                now,
                member_id=member_id,
                not_before=now + timedelta(seconds=due),
            )
            await uow.commit()
        if added:  # slow only where work is done, so a re-run skips the queued part quickly
            queued += 1
            await asyncio.sleep(step)
    return {"queued": queued}


async def main() -> None:
    settings = Settings()
    schema = os.environ["LEADER_PG_SCHEMA"]
    engine = create_engine(
        settings.database_url, connect_args={"server_settings": {"search_path": schema}}
    )
    app = await bootstrap(settings, engine=engine, migrate=False)
    scheduler.JOBS[:] = [PeriodicJob("test.greet", daily_at(0, 0), greet_everyone)]
    channels = build_channels(app)
    async with _leading(app, {channel.channel: channel for channel in channels}):
        print("up", flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
