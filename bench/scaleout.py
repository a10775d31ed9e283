"""Scale-out: two ``chatcrm serve`` processes on one PostgreSQL database, one fake Telegram at
30/s, a campaign to N members (600; quick 120) while members send ``/points`` to both.

``python -m bench.scaleout [--quick] [--pg URL]``. The bench creates a scratch schema (dropped
afterwards), migrates it, adds N members with a Telegram chat each, starts two real
``python -m bot serve`` processes on different ports at the shipped pace (``TELEGRAM_RATE``
28, the margin under the fake's 30 that absorbs the network's jitter), waits until both answer
``/healthz``, launches the campaign from this process and, until every outbox row is sent,
posts a ``/points`` webhook every 0.2 s from one of the first 20 members (also in the
campaign), to each process in turn. Only the elected leader dispatches (``jobs.leader``); the
follower's replies and the leader's sends share one budget through ``send_pace``
(``jobs.shared_pace``).

Targets: messages/s while the campaign goes out (its own and the replies, which share the
budget) ÷ 28 >= 0.95; the most accepted in any sliding 1-s window ÷ 30 <=
1.0; duplicates (campaign messages beyond one per member) = 0; 429s = 0; every ``/points``
answered.
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
    chat_user,
    launch_campaign,
    pending,
    scratch_app,
    statuses,
    steady_rate,
    window_max,
)
from simulator.fakes.apart import serving_apart
from simulator.fakes.telegram_api import TOKEN, FakeTelegramAPI
from simulator.fakes.telegram_updates import text_update

ROOT: Final = Path(__file__).resolve().parents[1]
DEFAULT_PG: Final = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
#: the fake's limit, and the pace both processes are given (the shipped default)
PLATFORM_RATE: Final = 30
PACE: Final = 28
ASKERS: Final = 20
ASK_EVERY: Final = 0.2
SECRET: Final = "scaleout-bench-secret"  # noqa: S105 (the fake's, not a credential)
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
        "TELEGRAM_WEBHOOK_SECRET": SECRET,
        "TELEGRAM_API_BASE": api_base,
        "TELEGRAM_RATE": str(PACE),
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
    fake = FakeTelegramAPI(rate=PLATFORM_RATE)
    processes: list[asyncio.subprocess.Process] = []
    try:
        async with serving_apart(fake) as (_, base), scratch_app(url) as app:
            await add_members(app.engine, members, "telegram")
            started = await asyncio.gather(*(start_serve(url, base) for _ in range(2)))
            processes = [process for process, _ in started]
            await asyncio.gather(*(healthy(process, port) for process, port in started))
            launched = await launch_campaign(app, MESSAGE)
            begun = time.monotonic()
            asked = await _ask_while_sending(app, [port for _, port in started], members)
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
    campaign_sends = [call for call in sends if "1-get-1" in str(call.params.get("text", ""))]
    per_chat = Counter(call.chat_id for call in campaign_sends)
    times = [call.at for call in sends]
    return {
        "members": members,
        "queued": launched.queued,
        "seconds": round(seconds, 2),
        "accepted": len(campaign_sends),
        "duplicates": sum(n - 1 for n in per_chat.values()),
        "rate_per_s": steady_rate(_during(sends, campaign_sends)),
        "campaign_rate_per_s": steady_rate([call.at for call in campaign_sends]),
        "points_asked": asked,
        "points_answered": len(sends) - len(campaign_sends),
        "busiest_window": window_max(times),
        "refused_429": fake.rates.refused,
        "per_second": [n for _, n in sorted(Counter(int(t - min(times)) for t in times).items())],
        "statuses": outcome,
    }


def _during(sends: list[Any], campaign_sends: list[Any]) -> list[float]:
    """When every message went out between the campaign's first and last (the replies draw on
    the same budget, so they count in the rate the budget allows)."""
    if not campaign_sends:
        return []
    first = min(call.at for call in campaign_sends)
    last = max(call.at for call in campaign_sends)
    return [call.at for call in sends if first <= call.at <= last]


async def _ask_while_sending(app: Any, ports: list[int], members: int) -> int:
    """``/points`` from the first members to each process in turn until the campaign is out;
    the number asked."""
    asked = 0
    deadline = time.monotonic() + members / PACE * 3 + 60
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline and await pending(app):
            member = asked % ASKERS + 1
            update = text_update(9_000_000 + asked, int(chat_user("telegram", member)), "/points")
            port = ports[asked % len(ports)]
            url = f"http://127.0.0.1:{port}/webhook/telegram"
            async with http.post(url, json=update, headers=headers) as response:
                response.raise_for_status()
            asked += 1
            await asyncio.sleep(ASK_EVERY)
    return asked


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
    note = (
        f"{run['accepted']} campaign messages of {members} in {run['seconds']} s, 2 serve "
        f"processes at TELEGRAM_RATE={PACE}, {run['points_asked']} /points asked meanwhile; "
        f"the campaign alone {run['campaign_rate_per_s']:.1f}/s"
    )
    busiest = f"campaign and replies; the fake allows {PLATFORM_RATE}"
    targets = [
        Target(
            "msg/s while sending ÷ TELEGRAM_RATE", run["rate_per_s"], PACE, "msg/s", 0.95, note=note
        ),
        Target(
            "busiest 1-s window ÷ 30",
            run["busiest_window"],
            PLATFORM_RATE,
            "msg",
            1.0,
            "<=",
            note=busiest,
        ),
        Target("duplicate campaign messages", run["duplicates"], 1, "messages", 0, "<="),
        Target("429s", run["refused_429"], 1, "429s", 0, "<="),
        Target(
            "/points answered ÷ asked",
            run["points_answered"],
            max(run["points_asked"], 1),
            "replies",
            1.0,
        ),
    ]
    publish("scaleout", targets, quick=args.quick, extra=run)


if __name__ == "__main__":
    main()
