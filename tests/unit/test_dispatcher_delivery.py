"""The dispatcher's issue-4 duties with fake adapters: quiet hours defer promotions, the
campaign hook hears each outcome, and what a crash between a send and its record does."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from bot.bootstrap import App
from bot.core.clock import FrozenClock
from bot.core.messages import Channel, Reply
from bot.core.wire import replies_to_payload
from jobs.dispatcher import LEASE, OutboxDispatcher
from storage.uow import UnitOfWork
from tests.unit.dispatcher_support import FakeLine, FakeTelegram, Push

#: 22:00 in Bangkok, inside the default quiet hours (21:00-09:00)
LATE_EVENING = datetime(2026, 3, 3, 15, 0, tzinfo=UTC)
#: 09:00 in Bangkok the next morning
NEXT_MORNING = datetime(2026, 3, 4, 2, 0, tzinfo=UTC)


async def enqueue(app: App, key: str, *, promotional: bool, channel: str = "telegram") -> None:
    async with app.uow() as uow:
        payload = replies_to_payload([Reply(text=key)])
        await uow.outbox.enqueue(
            key, channel, "1", payload, app.clock.now(), promotional=promotional
        )
        await uow.commit()


async def row_of(app: App, key: str) -> tuple[str, datetime, int]:
    async with app.uow() as uow:
        row = await uow.outbox.by_key(key)
    assert row is not None
    return row.status, row.not_before, row.attempts


async def test_a_promotion_due_in_quiet_hours_waits_for_the_morning(
    app: App, clock: FrozenClock
) -> None:
    clock.set(LATE_EVENING)
    telegram = FakeTelegram()
    await enqueue(app, "cmp:1:1", promotional=True)
    await enqueue(app, "sale:R1:receipt", promotional=False)
    result = await OutboxDispatcher(app.uow, clock, {Channel.TELEGRAM: telegram}).drain_once()
    assert (result.sent, result.deferred) == (1, 1)
    assert telegram.pushes == [Push("1", ["sale:R1:receipt"])]
    assert await row_of(app, "cmp:1:1") == ("pending", NEXT_MORNING, 0)


async def test_a_deferred_promotion_is_sent_when_the_quiet_hours_end(
    app: App, clock: FrozenClock
) -> None:
    clock.set(LATE_EVENING)
    telegram = FakeTelegram()
    dispatcher = OutboxDispatcher(app.uow, clock, {Channel.TELEGRAM: telegram})
    await enqueue(app, "cmp:1:1", promotional=True)
    await dispatcher.drain_once()
    clock.set(NEXT_MORNING)
    assert (await dispatcher.drain_once()).sent == 1
    assert telegram.pushes == [Push("1", ["cmp:1:1"])]


@dataclass
class HookCalls:
    calls: list[tuple[str, str]]

    async def __call__(self, uow: UnitOfWork, key: str, outcome: str, now: datetime) -> None:
        row = await uow.outbox.by_key(key)
        assert row is not None
        assert row.status == outcome
        self.calls.append((key, outcome))


async def test_the_campaign_hook_hears_each_promotional_outcome(app: App) -> None:
    telegram = FakeTelegram()
    dispatcher = OutboxDispatcher(app.uow, app.clock, {Channel.TELEGRAM: telegram})
    hook = HookCalls([])
    dispatcher._hook = hook
    await enqueue(app, "cmp:4:7", promotional=True)
    await enqueue(app, "sale:R1:receipt", promotional=False)
    await dispatcher.drain_once()
    assert hook.calls == [("cmp:4:7", "sent")]


class DiesAfterSending(FakeTelegram):
    """Telegram accepted the message, then the process died before recording it."""

    async def push(self, user_id: str, replies: Sequence[Reply]) -> None:
        await super().push(user_id, replies)
        raise asyncio.CancelledError


async def test_telegram_resends_a_message_accepted_but_not_recorded_before_a_crash(
    app: App, clock: FrozenClock
) -> None:
    # the documented limit of crash safety on Telegram: at least once, not exactly once
    dying = DiesAfterSending()
    await enqueue(app, "cmp:1:1", promotional=True)
    with pytest.raises(asyncio.CancelledError):
        await OutboxDispatcher(app.uow, clock, {Channel.TELEGRAM: dying}).drain_once()
    clock.advance(LEASE)
    restarted = FakeTelegram()
    assert (
        await OutboxDispatcher(app.uow, clock, {Channel.TELEGRAM: restarted}).drain_once()
    ).sent == 1
    assert len(dying.pushes) + len(restarted.pushes) == 2


class LineDiesAfterSending(FakeLine):
    async def push(
        self, user_id: str, replies: Sequence[Reply], retry_key: str | None = None
    ) -> None:
        await super().push(user_id, replies, retry_key)
        raise asyncio.CancelledError


async def test_line_resends_with_the_same_retry_key_after_a_crash(
    app: App, clock: FrozenClock
) -> None:
    dying = LineDiesAfterSending()
    await enqueue(app, "cmp:1:1", promotional=True, channel="line")
    with pytest.raises(asyncio.CancelledError):
        await OutboxDispatcher(app.uow, clock, {Channel.LINE: dying}).drain_once()
    clock.advance(LEASE)
    restarted = FakeLine()
    await OutboxDispatcher(app.uow, clock, {Channel.LINE: restarted}).drain_once()
    assert dying.calls[0].retry_key == restarted.calls[0].retry_key is not None
