"""A channel that multicasts keeps a request in flight for every worker: a pass claims a full
request per worker and claims more while they send, until a claim comes back short; every
recipient still gets one copy. A channel without multicast claims its batch as before."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta

from sqlalchemy import event

from bot.bootstrap import App
from bot.core.capabilities import TELEGRAM_CAPABILITIES, ChannelCapabilities
from bot.core.clock import FrozenClock
from bot.core.messages import Channel, Reply
from bot.core.wire import replies_to_payload
from jobs.dispatcher import OutboxDispatcher
from tests.unit.dispatcher_support import FakeTelegram

#: a generous bound for an asyncio hand-over; reaching it means the requests were not in flight
#: together (the test fails instead of hanging)
TOGETHER = 30.0


@dataclass
class Multicasting:
    """An adapter declaring a multicast of ``size``; the first ``together`` requests wait
    until all of them are in flight at once."""

    size: int = 3
    together: int = 0
    channel: Channel = Channel.TELEGRAM
    multicasts: list[list[str]] = field(default_factory=list)
    in_flight: int = 0
    most_in_flight: int = 0
    _all_there: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def capabilities(self) -> ChannelCapabilities:
        return replace(TELEGRAM_CAPABILITIES, multicast_max=self.size)

    async def push(self, user_id: str, replies: Sequence[Reply]) -> None:
        raise AssertionError(f"identical promotions are multicast, not pushed ({user_id})")

    async def multicast(self, user_ids: Sequence[str], replies: Sequence[Reply], key: str) -> None:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if self.in_flight >= self.together:
                self._all_there.set()
            if len(self.multicasts) < self.together:
                await asyncio.wait_for(self._all_there.wait(), TOGETHER)
            await asyncio.sleep(0)
            self.multicasts.append(list(user_ids))
        finally:
            self.in_flight -= 1


async def _queue(app: App, users: int, channel: Channel = Channel.TELEGRAM) -> list[str]:
    ids = [f"U{n}" for n in range(users)]
    async with app.uow() as uow:
        payload = replies_to_payload([Reply(text="1-get-1 this week")])
        for n, user in enumerate(ids):
            now = app.clock.now()
            await uow.outbox.enqueue(
                f"cmp:1:{n}", channel.value, user, payload, now, promotional=True
            )
        await uow.commit()
    return ids


async def test_a_fanout_pass_keeps_a_request_per_worker_in_flight_and_claims_more(
    app: App,
) -> None:
    users = await _queue(app, 20)
    adapter = Multicasting(size=3, together=2)
    # batch 1: without fan-out a pass would take one row; with it, 2 workers × 3 a claim
    dispatcher = OutboxDispatcher(
        app.uow, app.clock, {adapter.channel: adapter}, batch=1, concurrency=2
    )
    result = await dispatcher.drain_once()
    assert result.sent == 20  # 6 claimed, then 6, 6 and 2 while the workers sent
    assert adapter.most_in_flight == 2
    assert all(len(users) <= 3 for users in adapter.multicasts)
    assert Counter(user for sent in adapter.multicasts for user in sent) == Counter(users)
    assert await dispatcher.drain_once() == type(result)()


async def test_a_fanout_pass_has_no_more_requests_in_flight_than_workers(app: App) -> None:
    await _queue(app, 30)
    adapter = Multicasting(size=2)
    dispatcher = OutboxDispatcher(
        app.uow, app.clock, {adapter.channel: adapter}, batch=1, concurrency=3
    )
    assert (await dispatcher.drain_once()).sent == 30
    assert adapter.most_in_flight <= 3
    assert len(adapter.multicasts) == 15


async def test_a_channel_without_multicast_claims_its_batch_as_before(app: App) -> None:
    await _queue(app, 12)
    telegram = FakeTelegram()
    dispatcher = OutboxDispatcher(app.uow, app.clock, {Channel.TELEGRAM: telegram}, batch=5)
    assert [(await dispatcher.drain_once()).sent for _ in range(4)] == [5, 5, 2, 0]
    assert len(telegram.pushes) == 12


@dataclass
class SlowLine(Multicasting):
    """Multicasts that each take a second of the shop's clock; the first queues a Telegram
    row, as a member's order confirmation arriving while the campaign goes out."""

    clock: FrozenClock | None = None
    on_first: Callable[[], Awaitable[None]] | None = None
    sent: list[str] = field(default_factory=list)

    async def multicast(self, user_ids: Sequence[str], replies: Sequence[Reply], key: str) -> None:
        if self.on_first is not None:
            first, self.on_first = self.on_first, None
            await first()
        assert self.clock is not None
        self.clock.advance(timedelta(seconds=1))
        await super().multicast(user_ids, replies, key)
        self.sent.append("line")


async def test_a_long_fanout_pass_does_not_keep_other_channels_rows_waiting(app: App) -> None:
    await _queue(app, 90, Channel.LINE)  # 30 requests of 3: half a minute of sending
    assert isinstance(app.clock, FrozenClock)
    line = SlowLine(size=3, channel=Channel.LINE, clock=app.clock)
    telegram = FakeTelegram()

    async def order_confirmed() -> None:
        async with app.uow() as uow:
            payload = replies_to_payload([Reply(text="Order 12 confirmed")])
            await uow.outbox.enqueue("order:12", "telegram", "T1", payload, app.clock.now())
            await uow.commit()

    line.on_first = order_confirmed
    telegram_at: int | None = None

    async def telegram_sends() -> None:
        nonlocal telegram_at
        telegram_at = len(line.multicasts)

    telegram.on_push = telegram_sends
    channels = {Channel.LINE: line, Channel.TELEGRAM: telegram}
    dispatcher = OutboxDispatcher(app.uow, app.clock, channels, batch=1, concurrency=2)
    first = await dispatcher.drain_once()
    assert first.sent < 90  # the pass ended while the campaign still had rows to send
    assert telegram.pushes == []  # queued after the claim: the next pass takes it
    await dispatcher.drain_once()
    assert [push.user_id for push in telegram.pushes] == ["T1"]
    assert telegram_at is not None
    assert telegram_at < 30  # multicasts before it: the campaign was not done
    while (await dispatcher.drain_once()).sent:
        pass
    assert len(line.multicasts) == 30


async def test_a_fanout_pass_does_its_database_work_on_one_connection_at_a_time(
    app: App,
) -> None:
    """Claims, send checks and outcome writes take turns: every connection the pool opens on
    SQLite keeps a page cache of its own, so a campaign must not need more than one."""
    await _queue(app, 60)
    adapter = Multicasting(size=3, together=3)
    dispatcher = OutboxDispatcher(
        app.uow, app.clock, {adapter.channel: adapter}, batch=1, concurrency=3
    )
    out = most = 0

    def checked_out(*_: object) -> None:
        nonlocal out, most
        out += 1
        most = max(most, out)

    def checked_in(*_: object) -> None:
        nonlocal out
        out -= 1

    pool = app.engine.sync_engine.pool
    event.listen(pool, "checkout", checked_out)
    event.listen(pool, "checkin", checked_in)
    try:
        assert (await dispatcher.drain_once()).sent == 60
    finally:
        event.remove(pool, "checkout", checked_out)
        event.remove(pool, "checkin", checked_in)
    assert adapter.most_in_flight == 3
    assert most == 1
