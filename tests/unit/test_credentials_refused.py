"""The platform refuses the bot's own token (LINE 401, Telegram 401 Unauthorized): the operator
is told once per episode which setting to fix, not once per message (``jobs.credentials``)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta

import pytest

from bot.bootstrap import App
from bot.core.clock import FrozenClock
from bot.core.errors import CredentialsRejected, PermanentChannelError, RecipientUnreachable
from bot.core.messages import Channel, Reply
from bot.core.ports import NextTurn
from bot.core.wire import replies_to_payload
from jobs.credentials import FIRST_REST
from jobs.dispatcher import OutboxDispatcher
from jobs.ratelimit import Unlimited
from jobs.replies import ReplyCourier
from tests.unit.dispatcher_support import FakeTelegram, Push

SETTING = "TELEGRAM_BOT_TOKEN"


def refused() -> CredentialsRejected:
    return CredentialsRejected("Unauthorized", SETTING)


async def enqueue(app: App, key: str, chat: str) -> None:
    async with app.uow() as uow:
        payload = replies_to_payload([Reply(text=key)])
        await uow.outbox.enqueue(key, "telegram", chat, payload, app.clock.now())
        await uow.commit()


def named(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if SETTING in r.getMessage()]


async def test_a_refused_token_is_named_once_for_many_messages(
    app: App, clock: FrozenClock, caplog: pytest.LogCaptureFixture
) -> None:
    telegram = FakeTelegram(failures=[refused(), refused(), refused()])
    for chat in ("1", "2", "3"):
        await enqueue(app, f"note:{chat}", chat)
    dispatcher = OutboxDispatcher(app.uow, clock, {Channel.TELEGRAM: telegram})
    with caplog.at_level(logging.INFO):
        await dispatcher.drain_once()
    lines = named(caplog)
    assert len(lines) == 1, lines
    assert "telegram" in lines[0]
    assert "restart serve" in lines[0]


async def test_a_new_refusal_after_the_token_was_accepted_is_named_again(
    app: App, clock: FrozenClock, caplog: pytest.LogCaptureFixture
) -> None:
    telegram = FakeTelegram(failures=[refused()])
    dispatcher = OutboxDispatcher(app.uow, clock, {Channel.TELEGRAM: telegram})
    with caplog.at_level(logging.INFO):
        await enqueue(app, "note:1", "1")
        await dispatcher.drain_once()
        clock.advance(timedelta(hours=1))
        await enqueue(app, "note:2", "2")
        await dispatcher.drain_once()
        assert any("accepts the bot's credentials again" in r.getMessage() for r in caplog.records)
        telegram.failures.append(refused())
        await enqueue(app, "note:3", "3")
        clock.advance(timedelta(hours=1))
        await dispatcher.drain_once()
    assert len([line for line in named(caplog) if "sending failed" in line]) == 2


async def row_of(app: App, key: str) -> tuple[str, int]:
    async with app.uow() as uow:
        row = await uow.outbox.by_key(key)
    assert row is not None
    return row.status, row.attempts


async def test_a_refused_token_keeps_the_row_pending_without_using_an_attempt(
    app: App, clock: FrozenClock
) -> None:
    telegram = FakeTelegram(failures=[refused()])
    await enqueue(app, "note:1", "1")
    dispatcher = OutboxDispatcher(app.uow, clock, {Channel.TELEGRAM: telegram})
    result = await dispatcher.drain_once()
    assert (result.failed, result.released) == (0, 1)
    assert await row_of(app, "note:1") == ("pending", 0)
    # the row is due at once (a restart with the right token sends it), but this process rests
    # the channel: no request meanwhile
    assert (await dispatcher.drain_once()).claimed == 0
    clock.advance(FIRST_REST)
    assert (await dispatcher.drain_once()).sent == 1
    assert telegram.pushes == [Push("1", ["note:1"])]
    assert await row_of(app, "note:1") == ("sent", 1)  # the refusal used no attempt


async def test_the_channels_rest_grows_while_the_token_stays_refused(
    app: App, clock: FrozenClock
) -> None:
    telegram = FakeTelegram(failures=[refused() for _ in range(20)])
    await enqueue(app, "note:1", "1")
    dispatcher = OutboxDispatcher(app.uow, clock, {Channel.TELEGRAM: telegram})
    tried: list[int] = []  # seconds from the first refusal of each request
    for second in range(0, 200):
        if (await dispatcher.drain_once()).claimed:
            tried.append(second)
        clock.advance(timedelta(seconds=1))
    assert tried[:5] == [0, 5, 10, 20, 40], tried  # each rest as long as the refusals lasted
    assert await row_of(app, "note:1") == ("pending", 0)


async def test_per_recipient_refusals_stay_final_beside_a_refused_token(
    app: App, clock: FrozenClock
) -> None:
    blocked = RecipientUnreachable("Forbidden: bot was blocked by the user")
    telegram = FakeTelegram(
        failures=[blocked, PermanentChannelError("Bad Request: chat not found")]
    )
    for chat in ("1", "2"):
        await enqueue(app, f"note:{chat}", chat)
    dispatcher = OutboxDispatcher(app.uow, clock, {Channel.TELEGRAM: telegram}, concurrency=1)
    result = await dispatcher.drain_once()
    assert (result.unreachable, result.failed, result.released) == (1, 1, 0)
    assert {(await row_of(app, k))[0] for k in ("note:1", "note:2")} == {"unreachable", "failed"}


async def test_a_reply_refused_for_the_token_is_queued_not_failed(
    app: App, clock: FrozenClock, caplog: pytest.LogCaptureFixture
) -> None:
    courier = ReplyCourier(app.uow, clock, Unlimited())

    async def send(_unit: Sequence[Reply], _next_turn: NextTurn) -> None:
        raise refused()

    with caplog.at_level(logging.INFO):
        for chat in ("7", "8", "9"):
            outcome = await courier.deliver(Channel.TELEGRAM, chat, [[Reply("hi")]], send)
            assert outcome == "queued"
    assert len([line for line in named(caplog) if "sending failed" in line]) == 1
    async with app.uow() as uow:
        depth = await uow.outbox.depth(clock.now())
    # all three wait a short rest (a restart with the right token sends them), none failed
    assert [(d.channel, d.due, d.deferred, d.failed) for d in depth] == [("telegram", 0, 3, 0)]
