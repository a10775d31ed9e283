"""Two ``serve``-like processes on one PostgreSQL database: the leader is killed with SIGKILL in
the middle of a job; the other process takes over, re-runs the unfinished period and sends the
rest. Every member gets exactly one message (the job is idempotent per member by its outbox keys).

The kill lands while the job is queueing (its rows are due a few seconds later), so this pins
the scheduler's takeover; a kill in the middle of a *send* is pinned by ``test_crash_safety``.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.bootstrap import App
from bot.clock import SystemClock
from simulator.fakes.telegram_api import TOKEN, FakeTelegramAPI, serving
from storage.contact_policy import SETTINGS_KEY
from storage.db import is_sqlite
from storage.models import JobRun, Member, OutboxMessage
from tests.conftest import PG_SCHEMA
from tests.e2e.broadcast_support import NO_QUIET_HOURS

ROOT = Path(__file__).resolve().parents[2]
MEMBERS = 30


async def _seed(app: App) -> list[str]:
    now = SystemClock().now()
    chats = [str(7000 + n) for n in range(MEMBERS)]
    async with app.uow() as uow:
        await uow.settings.put(SETTINGS_KEY, NO_QUIET_HOURS, now)
        for n, chat in enumerate(chats):
            member = await uow.members.add(Member(name=f"M{n}", locale="th", joined_at=now))
            identity = await uow.identities.touch("telegram", chat, now)
            identity.member_id = member.id
        await uow.commit()
    return chats


async def _start(database_url: str, base: str) -> asyncio.subprocess.Process:
    environment = {
        **os.environ,
        "CHATCRM_DATABASE_URL": database_url,
        "LEADER_PG_SCHEMA": PG_SCHEMA,
        "CHATCRM_LEADER_RETRY_SECONDS": "0.5",
        # a 9 s job whose rows fall due 8 s after queueing: the kill (right after the second
        # process is up) lands mid-job and before the first leader sends anything, also on a
        # loaded machine
        "LEADER_STEP_SECONDS": "0.3",
        "LEADER_DUE_SECONDS": "8",
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE": base,
        "PYTHONPATH": str(ROOT),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.e2e.leader_runner",
        cwd=ROOT,
        env=environment,
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    assert await asyncio.wait_for(process.stdout.readline(), 60) == b"up\n"
    return process


async def _count(app: App, *where: object) -> int:
    async with app.uow() as uow:
        statement = select(func.count()).select_from(OutboxMessage).where(*where)  # type: ignore[arg-type]
        return int((await uow.session.execute(statement)).scalar_one())


async def _until(condition: object, seconds: float) -> None:
    for _ in range(int(seconds / 0.05)):
        if await condition():  # type: ignore[operator]
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"not reached in {seconds} s")


async def test_leader_killed_mid_job_is_replaced_and_each_member_gets_one_message(
    app: App, database_url: str
) -> None:
    if is_sqlite(database_url):
        pytest.skip("several processes are a PostgreSQL set-up")
    chats = await _seed(app)
    fake = FakeTelegramAPI(rate=300)
    async with serving(fake) as (_, base):
        first = await _start(database_url, base)
        try:
            await _until(lambda: _queued_at_least(app, 1), 30)  # the first one leads
            second = await _start(database_url, base)
            try:
                assert await _count(app) < MEMBERS  # mid-job
                first.send_signal(signal.SIGKILL)
                assert await first.wait() == -signal.SIGKILL
                await _until(lambda: _all_sent(app), 60)  # generous: a loaded CI machine
            finally:
                second.send_signal(signal.SIGKILL)
                await second.wait()
        finally:
            if first.returncode is None:
                first.send_signal(signal.SIGKILL)
                await first.wait()
    per_chat = Counter(str(call.chat_id) for call in fake.sent())
    assert per_chat == Counter(dict.fromkeys(chats, 1))
    async with app.uow() as uow:
        run = (await uow.session.execute(select(JobRun))).scalar_one()
    assert run.job_id == "test.greet"
    assert run.finished_at is not None


async def _queued_at_least(app: App, n: int) -> bool:
    return await _count(app) >= n


async def _all_sent(app: App) -> bool:
    return await _count(app, OutboxMessage.status == "sent") == MEMBERS
