"""The Telegram webhook through real HTTP: secrets, duplicates, buttons, blocks, setup, polling."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from bot.bootstrap import App
from bot.channels.telegram import TelegramChannel, TelegramConfigError
from bot.core.messages import Button, Inbound, Reply
from simulator.fakes.telegram_api import TOKEN
from simulator.fakes.telegram_updates import (
    callback_update,
    group_text_update,
    member_update,
    sticker_update,
    text_update,
)
from storage.models import ChannelIdentity, ProcessedEvent
from tests.e2e.telegram_world import SECRET, TelegramWorld, telegram_world

USER = 5550001


@pytest.fixture
async def tg(app: App) -> AsyncIterator[TelegramWorld]:
    async with telegram_world(app) as world:
        yield world


async def _identity(tg: TelegramWorld) -> ChannelIdentity | None:
    async with tg.app.uow() as uow:
        return await uow.identities.get("telegram", str(USER))


@pytest.mark.parametrize("secret", [None, "wrong", SECRET + "x", ""])
async def test_missing_or_wrong_secret_is_refused_with_nothing_stored_or_sent(
    tg: TelegramWorld, secret: str | None
) -> None:
    assert await tg.post(text_update(1, USER, "/start"), secret=secret) == 401
    assert await tg.count(ChannelIdentity) == 0
    assert await tg.count(ProcessedEvent) == 0
    assert tg.fake.calls == []


@pytest.mark.parametrize("body", ["{not json", "[1, 2]", '{"update_id": "x"}'])
async def test_body_that_is_not_an_update_is_a_400(tg: TelegramWorld, body: str) -> None:
    assert await tg.post(body) == 400
    assert await tg.count(ProcessedEvent) == 0


async def test_start_is_answered_after_handling(tg: TelegramWorld) -> None:
    assert await tg.post(text_update(1, USER, "/start")) == 200
    assert tg.fake.sent(USER), "the webhook answered before the replies were sent"
    assert await tg.count(ProcessedEvent) == 1


async def test_same_update_twice_has_one_effect(tg: TelegramWorld) -> None:
    assert await tg.post(text_update(7, USER, "/start")) == 200
    first = len(tg.fake.sent(USER))
    assert await tg.post(text_update(7, USER, "/start")) == 200
    assert len(tg.fake.sent(USER)) == first
    assert await tg.count(ProcessedEvent) == 1


async def test_button_press_is_answered_so_the_spinner_stops(tg: TelegramWorld) -> None:
    assert await tg.post(callback_update(2, USER, "nosuch:thing")) == 200
    (answer,) = tg.fake.of("answerCallbackQuery")
    assert answer.params["callback_query_id"] == "cq2"
    assert tg.fake.sent(USER)  # the "button expired" reply


async def test_blocked_user_is_marked_unreachable_and_webhook_still_succeeds(
    tg: TelegramWorld,
) -> None:
    tg.fake.block(USER)
    assert await tg.post(text_update(3, USER, "/start")) == 200
    identity = await _identity(tg)
    assert identity is not None
    assert identity.reachable is False


async def test_blocking_the_bot_marks_unreachable_and_sends_nothing(tg: TelegramWorld) -> None:
    assert await tg.post(member_update(4, USER, old="member", new="kicked")) == 200
    identity = await _identity(tg)
    assert identity is not None
    assert identity.reachable is False
    assert tg.fake.sent(USER) == []


@pytest.mark.parametrize("update", [group_text_update(5, USER, "/start"), sticker_update(5, USER)])
async def test_group_messages_and_stickers_are_ignored(
    tg: TelegramWorld, update: dict[str, object]
) -> None:
    assert await tg.post(update) == 200
    assert await tg.count(ChannelIdentity) == 0
    assert tg.fake.calls == []


async def test_push_reaches_a_chat_that_did_not_just_write(tg: TelegramWorld) -> None:
    await tg.channel.push(str(USER), [Reply(text="โปรพิเศษ", buttons=(Button("รับ", "c:1"),))])
    (call,) = tg.fake.sent(USER)
    assert call.text == "โปรพิเศษ"
    assert call.callback_data() == {"รับ": "c:1"}


async def test_setup_registers_webhook_with_secret_and_customer_menus(tg: TelegramWorld) -> None:
    done = await tg.channel.setup(tg.app.bus.router)
    webhook = tg.fake.webhook
    assert webhook["url"] == "https://shop.example/webhook/telegram"
    assert webhook["secret_token"] == SECRET
    assert webhook["allowed_updates"] == ["message", "callback_query", "my_chat_member"]
    thai, english = tg.fake.commands[("default", "")], tg.fake.commands[("default", "en")]
    assert [c["command"] for c in thai] == [c["command"] for c in english]
    assert {"start", "card", "points"} <= {c["command"] for c in thai}
    assert thai != english  # Thai descriptions by default, English for English clients
    assert len(done) == 3


async def test_setup_refuses_a_webhook_without_a_secret(tg: TelegramWorld) -> None:
    settings = tg.channel.settings
    tg.channel.settings = settings.model_copy(update={"telegram_webhook_secret": None})
    with pytest.raises(TelegramConfigError, match="TELEGRAM_WEBHOOK_SECRET"):
        await tg.channel.setup(tg.app.bus.router)
    assert tg.fake.calls == []


def test_webhook_route_refuses_to_exist_without_a_secret(app: App) -> None:
    settings = app.settings.model_copy(update={"telegram_bot_token": TOKEN})
    channel = TelegramChannel(settings, app.bus, app.uow, app.clock)
    with pytest.raises(TelegramConfigError, match="TELEGRAM_WEBHOOK_SECRET"):
        channel.register(web.Application())


async def test_failure_of_the_bus_itself_is_a_500_so_telegram_retries(
    tg: TelegramWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def database_down(_inbound: Inbound) -> list[Reply]:
        raise ConnectionRefusedError("database is down")

    monkeypatch.setattr(tg.channel.bus, "handle", database_down)
    assert await tg.post(text_update(12, USER, "/start")) == 500
    assert tg.fake.sent(USER) == []


async def test_polling_handles_queued_updates(tg: TelegramWorld) -> None:
    tg.fake.queue_update(text_update(11, USER, "/start"))
    polling = asyncio.create_task(tg.channel.run_polling(polling_timeout=1, handle_signals=False))
    try:
        for _ in range(100):
            if tg.fake.sent(USER):
                break
            await asyncio.sleep(0.05)
    finally:
        await tg.channel.stop_polling()
        await polling
    assert tg.fake.of("deleteWebhook")
    assert tg.fake.sent(USER)
    assert await tg.count(ProcessedEvent) == 1
