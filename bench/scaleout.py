"""Scale-out: two ``chatcrm serve`` processes on one PostgreSQL database, one fake Telegram at
30/s, a campaign to N members (600; quick 120).

``python -m bench.scaleout [--quick] [--pg URL]``. The bench creates a scratch schema (dropped
afterwards), migrates it, adds N members with a Telegram chat each, starts two real
``python -m bot serve`` processes on different ports (``TELEGRAM_RATE=30``, the fake's limit),
waits until both answer ``/healthz``, launches the campaign from this process and waits until
every outbox row is sent. Only the elected leader dispatches (``jobs.leader``), and the outbox
claim uses ``SKIP LOCKED``, so the platform limit holds across both processes.

Targets: accepted msg/s ÷ 30 >= 0.95; the most accepted in any sliding 1-s window ÷ 30 <= 1.0;
duplicates (messages beyond one per member) = 0; 429s = 0.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote

import aiohttp
import asyncpg  # type: ignore[import-untyped]

from bench.report import Target, publish
from bench.sending_support import (
    add_members,
    launch_campaign,
    pending,
    scratch_app,
    statuses,
    steady_rate,
    window_max,
)
from simulator.fakes.telegram_api import TOKEN, FakeTelegramAPI, serving

ROOT: Final = Path(__file__).resolve().parents[1]
DEFAULT_PG: Final = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
RATE: Final = 30
MESSAGE: Final = "Khun {name}, 1-get-1 milk tea Mon-Fri 14-16"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def start_serve(url: str, api_base: str) -> tuple[asyncio.subprocess.Process, int]:
    port = free_port()
    environment = {
        **os.environ,
        "CHATCRM_DATABASE_URL": url,
        "CHATCRM_PORT": str(port),
        "CHATCRM_LOG_FORMAT": "text",
        "CHATCRM_LEADER_RETRY_SECONDS": "1",
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_WEBHOOK_SECRET": "scaleout-bench-secret",
        "TELEGRAM_API_BASE": api_base,
        "TELEGRAM_RATE": str(RATE),
        "LINE_CHANNEL_SECRET": "",
        "LINE_CHANNEL_ACCESS_TOKEN": "",
        "PYTHONPATH": str(ROOT),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "serve",
        cwd=ROOT,
        env=environment,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    return process, port


async def healthy(process: asyncio.subprocess.Process, port: int, seconds: float = 90) -> None:
    async with aiohttp.ClientSession() as http:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if process.returncode is not None:
                raise RuntimeError(f"serve on port {port} exited with {process.returncode}")
            try:
                async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError(f"serve on port {port} never answered /healthz")


async def stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), 20)
        except TimeoutError:
            process.kill()
            await process.wait()


async def campaign(pg: str, members: int) -> dict[str, Any]:
    schema = f"chatcrm_bench_scale_{os.getpid()}"
    dsn = pg.replace("postgresql+asyncpg", "postgresql")
    admin = await asyncpg.connect(dsn)
    await admin.execute(f'CREATE SCHEMA "{schema}"')
    url = f"{pg}?options={quote(f'-csearch_path={schema}')}"
    fake = FakeTelegramAPI(rate=RATE)
    processes: list[asyncio.subprocess.Process] = []
    try:
        async with serving(fake) as (_, base), scratch_app(url) as app:
            await add_members(app.engine, members, "telegram")
            started = await asyncio.gather(*(start_serve(url, base) for _ in range(2)))
            processes = [process for process, _ in started]
            await asyncio.gather(*(healthy(process, port) for process, port in started))
            launched = await launch_campaign(app, MESSAGE)
            begun = time.monotonic()
            while time.monotonic() - begun < members / RATE * 3 + 60:
                await asyncio.sleep(0.5)
                if not await pending(app):
                    break
            seconds = time.monotonic() - begun
            outcome = await statuses(app)
            for process in processes:
                await stop(process)
    finally:
        for process in processes:
            await stop(process)
        await admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
        await admin.close()
    sends = fake.sent()
    per_chat = Counter(call.chat_id for call in sends)
    times = [call.at for call in sends]
    return {
        "members": members,
        "queued": launched.queued,
        "seconds": round(seconds, 2),
        "accepted": len(sends),
        "duplicates": sum(n - 1 for n in per_chat.values()),
        "rate_per_s": steady_rate(times),
        "busiest_window": window_max(times),
        "refused_429": fake.rates.refused,
        "statuses": outcome,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="120 members (CI)")
    parser.add_argument("--pg", default=os.environ.get("CHATCRM_BENCH_PG_URL", DEFAULT_PG))
    args = parser.parse_args()
    members = 120 if args.quick else 600
    try:
        run = asyncio.run(campaign(args.pg, members))
    except OSError as error:  # PostgreSQL not running here: say so, do not fail
        print(f"  scale-out: not measured ({error})")
        publish("scaleout", [], quick=args.quick, extra={"error": str(error)})
        return
    note = f"{run['accepted']} accepted of {members} in {run['seconds']} s, 2 serve processes"
    targets = [
        Target("accepted msg/s ÷ allowed", run["rate_per_s"], RATE, "msg/s", 0.95, note=note),
        Target("busiest 1-s window ÷ allowed", run["busiest_window"], RATE, "msg", 1.0, "<="),
        Target("duplicate messages", run["duplicates"], 1, "messages", 0, "<="),
        Target("429s", run["refused_429"], 1, "429s", 0, "<="),
    ]
    publish("scaleout", targets, quick=args.quick, extra=run)


if __name__ == "__main__":
    main()
