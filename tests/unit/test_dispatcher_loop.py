"""The dispatcher loop: woken by a kick, stopped by its event; two processes never double-send."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from bot.bootstrap import App, bootstrap
from bot.config import Settings
from bot.core.clock import FrozenClock
from bot.core.messages import Reply
from bot.core.wire import replies_to_payload
from jobs.dispatcher import OutboxDispatcher
from tests.conftest import make_test_engine
from tests.storage.outbox_support import queue
from tests.unit.dispatcher_support import FakeTelegram


async def test_a_kick_wakes_the_loop_long_before_the_poll_interval(app: App) -> None:
    pushed = asyncio.Event()

    async def note_push() -> None:
        pushed.set()

    telegram = FakeTelegram(on_push=note_push)
    dispatcher = OutboxDispatcher(app.uow, app.clock, {telegram.channel: telegram}, poll_seconds=60)
    stop = asyncio.Event()
    task = asyncio.create_task(dispatcher.run(stop))
    await asyncio.sleep(0.05)  # the first, empty drain is done; the loop sleeps
    await queue(app, "a", text="receipt")
    dispatcher.kick()
    await asyncio.wait_for(pushed.wait(), 5)
    stop.set()
    await asyncio.wait_for(task, 5)
    assert [p.texts for p in telegram.pushes] == [["receipt"]]


async def test_the_loop_ends_soon_after_stop_is_set(app: App) -> None:
    dispatcher = OutboxDispatcher(app.uow, app.clock, {}, poll_seconds=60)
    stop = asyncio.Event()
    task = asyncio.create_task(dispatcher.run(stop))
    await asyncio.sleep(0.05)
    stop.set()
    await asyncio.wait_for(task, 2)


@pytest.fixture
async def second_app(
    database_url: str, settings: Settings, clock: FrozenClock, app: App
) -> AsyncIterator[App]:
    """Another process's view of the same database: its own engine and connections."""
    engine = make_test_engine(database_url)
    other = await bootstrap(settings=settings, clock=clock, engine=engine, migrate=False)
    yield other
    await other.close()


async def test_two_dispatchers_draining_at_once_never_send_a_row_twice(
    app: App, second_app: App
) -> None:
    keys = [f"k{i}" for i in range(40)]
    async with app.uow() as uow:
        for key in keys:
            payload = {"v": 1, "replies": [{"text": key}]}
            await uow.outbox.enqueue(key, "telegram", "1", payload, app.clock.now())
        await uow.commit()

    async def interleave() -> None:
        await asyncio.sleep(0)  # let the other dispatcher run between claim and record

    telegram = FakeTelegram(on_push=interleave)  # one platform, two processes sending to it
    one = OutboxDispatcher(app.uow, app.clock, {telegram.channel: telegram})
    two = OutboxDispatcher(second_app.uow, second_app.clock, {telegram.channel: telegram})
    by_process = [0, 0]
    for _ in range(6):
        first, second = await asyncio.gather(one.drain_once(limit=7), two.drain_once(limit=7))
        by_process[0] += first.sent
        by_process[1] += second.sent
    sent = [push.texts[0] for push in telegram.pushes]
    assert sorted(sent) == sorted(keys)
    assert min(by_process) > 0  # both really took part
    async with app.uow() as uow:
        assert await uow.outbox.pending_count() == 0


async def test_replies_are_rebuilt_from_the_stored_payload(app: App) -> None:
    telegram = FakeTelegram()
    async with app.uow() as uow:
        payload = replies_to_payload([Reply(text="one"), Reply(text="two")])
        await uow.outbox.enqueue("k", "telegram", "7", payload, app.clock.now())
        await uow.commit()
    await OutboxDispatcher(app.uow, app.clock, {telegram.channel: telegram}).drain_once()
    assert [p.texts for p in telegram.pushes] == [["one", "two"]]
