"""The quiet hours begin while a pass is sending: promotions it claimed before 21:00 are held
for the morning (pending, no attempt used), transactional rows of the same pass still go."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from bot.bootstrap import App
from bot.core.capabilities import TELEGRAM_CAPABILITIES, ChannelCapabilities
from bot.core.clock import FrozenClock
from bot.core.messages import Channel, Reply
from bot.core.wire import replies_to_payload
from jobs.dispatcher import OutboxDispatcher
from tests.unit.dispatcher_support import FakeTelegram, Push

#: 20:59:50 in Bangkok, ten seconds before the default quiet hours (21:00-09:00)
JUST_BEFORE = datetime(2026, 3, 3, 13, 59, 50, tzinfo=UTC)
#: 09:00 in Bangkok the next morning
NEXT_MORNING = datetime(2026, 3, 4, 2, 0, tzinfo=UTC)


async def _enqueue(app: App, key: str, user_id: str, *, promotional: bool) -> None:
    async with app.uow() as uow:
        payload = replies_to_payload([Reply(text=key)])
        now = app.clock.now()
        await uow.outbox.enqueue(key, "telegram", user_id, payload, now, promotional=promotional)
        await uow.commit()


async def _row(app: App, key: str) -> tuple[str, datetime, int]:
    async with app.uow() as uow:
        row = await uow.outbox.by_key(key)
    assert row is not None
    return row.status, row.not_before, row.attempts


def _slow(clock: FrozenClock) -> FakeTelegram:
    async def twenty_seconds() -> None:  # a busy platform: every request takes a while
        clock.advance(timedelta(seconds=20))

    return FakeTelegram(on_push=twenty_seconds)


async def test_a_promotion_whose_turn_comes_after_21_00_waits_for_the_morning(
    app: App, clock: FrozenClock
) -> None:
    clock.set(JUST_BEFORE)
    await _enqueue(app, "cmp:1:1", "1", promotional=True)
    await _enqueue(app, "sale:R1:receipt", "2", promotional=False)
    await _enqueue(app, "cmp:1:2", "3", promotional=True)
    telegram = _slow(clock)
    dispatcher = OutboxDispatcher(app.uow, clock, {Channel.TELEGRAM: telegram}, concurrency=1)
    result = await dispatcher.drain_once()
    # the first promotion went at 20:59:50; the receipt's turn came at 21:00:10 and it went
    assert telegram.pushes == [Push("1", ["cmp:1:1"]), Push("2", ["sale:R1:receipt"])]
    assert (result.sent, result.released) == (2, 1)
    assert await _row(app, "cmp:1:2") == ("pending", NEXT_MORNING, 0)


async def test_the_held_promotion_is_sent_in_the_morning(app: App, clock: FrozenClock) -> None:
    clock.set(JUST_BEFORE)
    await _enqueue(app, "cmp:1:1", "1", promotional=True)
    await _enqueue(app, "cmp:1:2", "2", promotional=True)
    telegram = _slow(clock)
    dispatcher = OutboxDispatcher(app.uow, clock, {Channel.TELEGRAM: telegram}, concurrency=1)
    await dispatcher.drain_once()
    clock.set(NEXT_MORNING - timedelta(minutes=1))
    assert (await dispatcher.drain_once()).sent == 0
    clock.set(NEXT_MORNING)
    assert (await dispatcher.drain_once()).sent == 1
    assert [push.user_id for push in telegram.pushes] == ["1", "2"]
    assert (await _row(app, "cmp:1:2"))[0] == "sent"


async def test_promotions_go_on_after_21_00_when_the_shop_has_no_quiet_hours(
    app: App, clock: FrozenClock
) -> None:
    async with app.uow() as uow:
        await uow.settings.put("contact_policy", {"quiet_hours": ["00:00", "00:00"]}, clock.now())
        await uow.commit()
    clock.set(JUST_BEFORE)
    await _enqueue(app, "cmp:1:1", "1", promotional=True)
    await _enqueue(app, "cmp:1:2", "2", promotional=True)
    telegram = _slow(clock)
    dispatcher = OutboxDispatcher(app.uow, clock, {Channel.TELEGRAM: telegram}, concurrency=1)
    assert (await dispatcher.drain_once()).sent == 2


@dataclass
class SlowMulticast:
    """Multicasts two recipients a request; each request takes twenty seconds."""

    clock: FrozenClock
    channel: Channel = Channel.TELEGRAM
    multicasts: list[list[str]] = field(default_factory=list)

    @property
    def capabilities(self) -> ChannelCapabilities:
        return replace(TELEGRAM_CAPABILITIES, multicast_max=2)

    async def push(self, user_id: str, replies: Sequence[Reply]) -> None:
        raise AssertionError(f"identical promotions are multicast, not pushed ({user_id})")

    async def multicast(self, user_ids: Sequence[str], replies: Sequence[Reply], key: str) -> None:
        self.multicasts.append(list(user_ids))
        self.clock.advance(timedelta(seconds=20))


async def test_a_multicast_whose_turn_comes_after_21_00_waits_with_all_its_recipients(
    app: App, clock: FrozenClock
) -> None:
    clock.set(JUST_BEFORE)
    async with app.uow() as uow:
        payload = replies_to_payload([Reply(text="1-get-1")])
        for n in range(4):
            key, user = f"cmp:1:{n}", f"u{n}"
            await uow.outbox.enqueue(key, "telegram", user, payload, clock.now(), promotional=True)
        await uow.commit()
    line = SlowMulticast(clock)
    dispatcher = OutboxDispatcher(app.uow, clock, {Channel.TELEGRAM: line}, concurrency=1)
    result = await dispatcher.drain_once()
    assert line.multicasts == [["u0", "u1"]]
    assert (result.sent, result.released) == (2, 2)
    assert await _row(app, "cmp:1:3") == ("pending", NEXT_MORNING, 0)
