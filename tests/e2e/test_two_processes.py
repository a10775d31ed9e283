"""Two real ``chatcrm serve`` processes on one PostgreSQL schema; the leader is killed with SIGKILL
between two sends of the birthday automation; the other process takes over and sends the rest.

Both processes are the installed command line (``python -m bot serve``) with Telegram set up
against the fake Bot API (its rate limit on) and the schema chosen by the database URL
(``?options=-csearch_path=...``). Which process leads is read from its log, never assumed. The
fake processes the k-th greeting and holds any later request until the kill, so the kill lands
between two sends (a kill while Telegram handles a request is ``test_crash_safety``'s case). The
takeover time is printed; only a generous bound is asserted.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import func, select

from bot.bootstrap import App
from bot.core.clock import FrozenClock, SystemClock
from shop.contact_policy import SETTINGS_KEY
from simulator.fakes.telegram_api import TOKEN, Call, FakeTelegramAPI, serving
from storage.db import is_sqlite
from storage.models import CampaignMember, JobRun, OutboxMessage
from storage.raw_session import session_of
from tests.conftest import PG_SCHEMA
from tests.domain.automation_support import BANGKOK, set_automations
from tests.e2e.broadcast_support import NO_QUIET_HOURS
from tests.unit.staff_support import make_member

ROOT = Path(__file__).resolve().parents[2]
MEMBERS = 100
#: our pace (TELEGRAM_RATE) and the fake's limit: 100 greetings take about 25 s to send
PACE, PLATFORM_RATE = 4, 5
RETRY_SECONDS, LEASE_SECONDS = 1.0, 8.0
LEADS = "this process is now the leader"
BIRTHDAY_RUN = "job automations.birthday: running period"


@dataclass
class Serve:
    """One ``chatcrm serve`` process and its log lines, each with when it arrived."""

    name: str
    port: int
    process: asyncio.subprocess.Process
    lines: list[tuple[float, str]] = field(default_factory=list)
    reader: asyncio.Task[None] | None = None

    def logged(self, text: str) -> list[float]:
        return [at for at, line in self.lines if text in line]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _schema_url(database_url: str) -> str:
    return f"{database_url}?options={quote(f'-csearch_path={PG_SCHEMA}')}"


async def _read_log(serve: Serve) -> None:
    assert serve.process.stderr is not None
    while line := await serve.process.stderr.readline():
        serve.lines.append((time.monotonic(), line.decode(errors="replace").rstrip()))


async def _start(name: str, database_url: str, api_base: str) -> Serve:
    port = _free_port()
    environment = {
        **os.environ,
        "CHATCRM_DATABASE_URL": _schema_url(database_url),
        "CHATCRM_PORT": str(port),
        "CHATCRM_LOG_FORMAT": "text",
        "CHATCRM_LEADER_RETRY_SECONDS": str(RETRY_SECONDS),
        "CHATCRM_OUTBOX_LEASE_SECONDS": str(LEASE_SECONDS),
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_WEBHOOK_SECRET": "two-processes-secret",
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
        stderr=asyncio.subprocess.PIPE,
    )
    serve = Serve(name, port, process)
    serve.reader = asyncio.create_task(_read_log(serve))
    return serve


async def _healthy(serve: Serve, seconds: float = 90) -> None:
    url = f"http://127.0.0.1:{serve.port}/healthz"
    async with aiohttp.ClientSession() as http:
        for _ in range(int(seconds / 0.1)):
            assert serve.process.returncode is None, "\n".join(line for _, line in serve.lines)
            try:
                async with http.get(url) as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError(f"{serve.name} never answered /healthz")


async def _stop(serve: Serve) -> None:
    if serve.process.returncode is None:
        serve.process.send_signal(signal.SIGKILL)
        await serve.process.wait()
    if serve.reader is not None:
        await serve.reader


async def _until(condition: Any, seconds: float, what: str) -> None:
    for _ in range(int(seconds / 0.02)):
        if await condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{what}: not reached in {seconds} s")


async def _sent_rows(app: App) -> int:
    async with app.uow() as uow:
        statement = select(func.count()).where(OutboxMessage.status == "sent")
        return int((await session_of(uow).execute(statement)).scalar_one())


async def _seed_birthdays(app: App, clock: FrozenClock) -> set[str]:
    """MEMBERS members born on today's shop day, consenting, greeted from 00:00, no hold-out."""
    clock.set(SystemClock().now())
    today = clock.now().astimezone(BANGKOK).date()
    born = date(1992, today.month, today.day)  # 1992 is a leap year: 29 February exists
    await set_automations(app, {"birthday": {"hour": 0, "holdout_pct": 0}})
    async with app.uow() as uow:
        await uow.settings.put(SETTINGS_KEY, NO_QUIET_HOURS, clock.now())
        await uow.commit()
    chats = {str(7000 + n) for n in range(MEMBERS)}
    for chat in sorted(chats):
        await make_member(app, f"M{chat}", phone=None, user_id=chat, birthday=born)
    return chats


class Gate:
    """Lets the fake process ``k`` greetings, then holds every later request until opened."""

    def __init__(self, k: int, arrived: int) -> None:
        self.k, self.arrived, self.held = k, arrived, 0
        self.processed_k = asyncio.Event()
        self.opened = asyncio.Event()
        self.closed = False

    async def __call__(self, call: Call) -> None:
        if self.closed and not self.opened.is_set():
            self.held += 1
            await self.opened.wait()  # never processed: its process is dead by now
            raise web.HTTPServiceUnavailable()
        self.arrived += 1
        if self.arrived == self.k and not self.opened.is_set():
            self.closed = True
            self.processed_k.set()


async def test_serve_leader_killed_between_sends_is_replaced_and_each_member_is_greeted_once(
    app: App, clock: FrozenClock, database_url: str
) -> None:
    if is_sqlite(database_url):
        pytest.skip("several serve processes share one PostgreSQL database; SQLite is one process")
    chats = await _seed_birthdays(app, clock)
    fake = FakeTelegramAPI(rate=PLATFORM_RATE)
    async with serving(fake) as (_, base):
        serves = await asyncio.gather(*(_start(n, database_url, base) for n in ("a", "b")))
        try:
            await asyncio.gather(*(_healthy(serve) for serve in serves))
            up = len(fake.sent())
            assert up <= MEMBERS // 2, f"{up} sent before both were up: no time left to kill"
            gate = Gate(k=up + 8, arrived=up)
            fake.before_send = gate  # no await since counting ``up``: no send slipped past
            await _until(lambda: _leaders(serves), 30, "a leader")
            leader, survivor = serves if serves[0].logged(LEADS) else serves[::-1]
            await asyncio.wait_for(gate.processed_k.wait(), 60)
            await _until(lambda: _recorded(app, gate.k), 10, "the k-th send recorded")
            killed_at = time.monotonic()
            leader.process.send_signal(signal.SIGKILL)
            assert await leader.process.wait() == -signal.SIGKILL
            gate.opened.set()
            await _until(lambda: _all_sent(app), 120, "every greeting sent")
        finally:
            for serve in serves:
                await _stop(serve)
    greetings = fake.sent()
    assert survivor.logged(LEADS), "the survivor never became the leader"
    led_at, first_send = survivor.logged(LEADS)[0], min(c.at for c in greetings if c.at > killed_at)
    print(
        f"\ntakeover after SIGKILL (k={gate.k}, {gate.held} request(s) held unprocessed): "
        f"new leader {led_at - killed_at:.2f} s (retry {RETRY_SECONDS} s), first send "
        f"{first_send - killed_at:.2f} s (outbox lease {LEASE_SECONDS} s); busiest second "
        f"{fake.rates.busiest_second}/{PLATFORM_RATE}, pace {PACE}/s, refused "
        f"{fake.rates.refused}"
    )
    assert Counter(str(call.chat_id) for call in greetings) == Counter(dict.fromkeys(chats, 1))
    assert led_at - killed_at < RETRY_SECONDS + 20
    assert first_send - killed_at < LEASE_SECONDS + RETRY_SECONDS + 20
    assert fake.rates.refused == 0
    assert fake.rates.busiest_second <= PLATFORM_RATE
    await _assert_birthday_period_done_once(app, serves)


async def _assert_birthday_period_done_once(app: App, serves: list[Serve]) -> None:
    async with app.uow() as uow:
        birthday = select(JobRun).where(JobRun.job_id == "automations.birthday")
        runs = (await session_of(uow).scalars(birthday)).all()
        enrolled = await session_of(uow).scalar(select(func.count(CampaignMember.member_id)))
        statuses = (
            await session_of(uow).execute(
                select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
            )
        ).all()
    assert dict(statuses) == {"sent": MEMBERS}
    assert enrolled == MEMBERS
    assert all(run.finished_at is not None for run in runs)
    # each period ran in one process only (a later hour's period finds nobody new)
    assert sum(len(serve.logged(BIRTHDAY_RUN)) for serve in serves) == len(runs)
    assert sum((run.result or {}).get("recipients", 0) for run in runs) == MEMBERS


async def _leaders(serves: list[Serve]) -> bool:
    return sum(bool(serve.logged(LEADS)) for serve in serves) == 1


async def _recorded(app: App, k: int) -> bool:
    return await _sent_rows(app) >= k


async def _all_sent(app: App) -> bool:
    return await _sent_rows(app) == MEMBERS
