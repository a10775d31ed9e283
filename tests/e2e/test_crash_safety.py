"""A campaign sender killed with SIGKILL in the middle of a send, then restarted: every
recipient gets the message; none gets it twice except, on Telegram, the requests Telegram had
accepted whose answers died with the process — at most the dispatcher's concurrency, the bound
the README states (see ``jobs/dispatcher.py`` on crash safety).

The sender is a real process (``tests/e2e/crash_runner.py``) on this run's database; the fake
platforms run here. Telegram: after k messages the fake stops processing requests (they hang,
as requests cut off before Telegram handled them), the process is killed once it recorded the
k it was answered, and the next process sends exactly the rest. LINE: the fake accepts a
multicast and holds its answer, the process is killed while waiting, and the next process
sends the same recipients with the same retry key, which LINE answers 409.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.bootstrap import App
from jobs.dispatcher import CONCURRENCY
from simulator.fakes.line_api import ACCESS_TOKEN, CHANNEL_SECRET, FakeLineApi
from simulator.fakes.line_api import Call as LineCall
from simulator.fakes.telegram_api import TOKEN, FakeTelegramAPI, serving
from simulator.fakes.telegram_api import Call as TelegramCall
from storage.db import is_sqlite
from tests.conftest import PG_SCHEMA
from tests.e2e.broadcast_support import queue_promotions, statuses

ROOT = Path(__file__).resolve().parents[2]


async def start_sender(database_url: str, env: dict[str, str]) -> asyncio.subprocess.Process:
    environment = {
        **os.environ,
        "CHATCRM_DATABASE_URL": database_url,
        "CRASH_LEASE_SECONDS": "2",
        "PYTHONPATH": str(ROOT),
        **env,
    }
    if not is_sqlite(database_url):
        environment["CRASH_PG_SCHEMA"] = PG_SCHEMA
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.e2e.crash_runner", cwd=ROOT, env=environment
    )


async def kill(process: asyncio.subprocess.Process) -> None:
    process.send_signal(signal.SIGKILL)
    assert await process.wait() == -signal.SIGKILL


async def until(condition: Any, seconds: float = 30) -> None:
    for _ in range(int(seconds / 0.05)):
        if await condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"not reached in {seconds} s")


async def test_telegram_sender_killed_after_k_of_n_sends_each_recipient_once(
    app: App, database_url: str
) -> None:
    n, k = 60, 20
    fake = FakeTelegramAPI(rate=300)
    arrived, hung, cut_off, end = 0, 0, asyncio.Event(), asyncio.Event()

    async def stop_processing_after_k(call: TelegramCall) -> None:
        nonlocal arrived, hung
        if cut_off.is_set():
            hung += 1
            await end.wait()  # hangs until the test ends: never processed, never answered
            raise web.HTTPServiceUnavailable()
        arrived += 1
        if arrived == k:
            cut_off.set()

    fake.before_send = stop_processing_after_k
    chats = [str(5000 + i) for i in range(n)]
    await queue_promotions(app, "telegram", chats)
    async with serving(fake) as (_, base):
        env = {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE": base, "TELEGRAM_RATE": "250"}
        first = await start_sender(database_url, env)
        await asyncio.wait_for(cut_off.wait(), 30)

        async def k_recorded() -> bool:
            return (await statuses(app)).get("sent", 0) == k

        await until(k_recorded)

        async def cut_mid_send() -> bool:  # the premise: requests are in flight at the kill
            return hung > 0

        await until(cut_mid_send)
        await kill(first)
        in_flight, fake.before_send = hung, None
        second = await start_sender(database_url, env)
        assert await asyncio.wait_for(second.wait(), 60) == 0
        end.set()
    assert in_flight > 0  # the kill did cut requests off mid-send
    per_chat = Counter(call.chat_id for call in fake.sent())
    assert per_chat == Counter({int(chat): 1 for chat in chats})
    assert await statuses(app) == {"sent": n}


async def test_telegram_sender_killed_while_telegram_answers_repeats_at_most_the_bound(
    app: App, database_url: str
) -> None:
    n, k = 60, 20
    fake = FakeTelegramAPI(rate=300)
    answered, unanswered, end = 0, 0, asyncio.Event()

    async def answer_only_the_first_k(call: TelegramCall) -> None:
        nonlocal answered, unanswered
        if answered < k:
            answered += 1
            return
        unanswered += 1  # delivered; the answer never reaches the sender
        await end.wait()
        raise web.HTTPServiceUnavailable()

    fake.after_send = answer_only_the_first_k
    chats = [str(6000 + i) for i in range(n)]
    await queue_promotions(app, "telegram", chats)
    async with serving(fake) as (_, base):
        env = {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE": base, "TELEGRAM_RATE": "250"}
        first = await start_sender(database_url, env)

        async def k_recorded_and_workers_waiting() -> bool:
            return unanswered > 0 and (await statuses(app)).get("sent", 0) == k

        await until(k_recorded_and_workers_waiting, 90)  # a loaded machine starts slowly
        await asyncio.sleep(0.5)  # every worker reaches its unanswered request
        await kill(first)
        in_flight, fake.after_send = unanswered, None
        second = await start_sender(database_url, env)
        assert await asyncio.wait_for(second.wait(), 60) == 0
        end.set()
    per_chat = Counter(call.chat_id for call in fake.sent())
    assert set(per_chat) == {int(chat) for chat in chats}  # nobody is left out
    twice = [chat for chat, count in per_chat.items() if count > 1]
    assert max(per_chat.values()) == 2
    # the README's bound: a kill repeats at most the requests in flight, the concurrency
    assert 0 < len(twice) == in_flight <= CONCURRENCY
    assert await statuses(app) == {"sent": n}


def test_the_readme_states_the_crash_bound_instead_of_never_twice() -> None:
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    assert "nobody gets a message twice" not in readme
    assert "never send one row twice" not in readme
    assert f"message twice: at most the dispatcher's concurrency, {CONCURRENCY}" in readme


async def test_line_sender_killed_while_line_answers_reuses_the_retry_key(
    app: App, database_url: str
) -> None:
    fake = FakeLineApi()
    held, end = asyncio.Event(), asyncio.Event()
    accepted: list[LineCall] = []

    async def hold_the_second_answer(call: LineCall) -> None:
        accepted.append(call)
        if len(accepted) == 2:
            held.set()
            await end.wait()  # accepted by LINE; the answer never reaches the killed sender
            raise web.HTTPServiceUnavailable()

    fake.after_accept = hold_the_second_answer
    users = [f"U{i:032x}" for i in range(1200)]
    await queue_promotions(app, "line", users)
    async with fake.running() as base:
        env = {
            "LINE_CHANNEL_SECRET": CHANNEL_SECRET,
            "LINE_CHANNEL_ACCESS_TOKEN": ACCESS_TOKEN,
            "LINE_API_BASE": base,
            "LINE_DATA_API_BASE": base,
        }
        first = await start_sender(database_url, env)
        await asyncio.wait_for(held.wait(), 30)

        async def others_recorded() -> bool:
            # one pass sends all three multicasts at once: all but the held one are recorded
            return (await statuses(app)).get("sent", 0) == len(users) - 500

        await until(others_recorded)
        await kill(first)
        fake.after_accept = None
        second = await start_sender(database_url, env)
        assert await asyncio.wait_for(second.wait(), 60) == 0
        end.set()
    interrupted = accepted[1].headers["X-Line-Retry-Key"]
    same_key = [
        c for c in fake.calls_to("multicast") if c.headers["X-Line-Retry-Key"] == interrupted
    ]
    assert [c.status for c in same_key] == [200, 409]
    assert same_key[0].json["to"] == same_key[1].json["to"]
    delivered = Counter(user for call in fake.delivered() for user in call.json["to"])
    assert delivered == Counter(users)
    assert await statuses(app) == {"sent": 1200}
