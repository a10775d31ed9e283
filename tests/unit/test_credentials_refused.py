"""The platform refuses the bot's own token (LINE 401, Telegram 401 Unauthorized): the operator
is told once per episode which setting to fix, not once per message (``jobs.credentials``)."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from bot.bootstrap import App
from bot.core.clock import FrozenClock
from bot.core.errors import CredentialsRejected
from bot.core.messages import Channel, Reply
from bot.core.wire import replies_to_payload
from jobs.dispatcher import OutboxDispatcher
from tests.unit.dispatcher_support import FakeTelegram

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
