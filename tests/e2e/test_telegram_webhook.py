"""The Telegram webhook through real HTTP: secrets, duplicates, buttons, blocks, setup, polling."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from aiohttp import web
from sqlalchemy import select

from bot.bootstrap import App
from bot.channels.telegram import TelegramChannel, TelegramConfigError
from bot.core.clock import FrozenClock
from bot.core.messages import Button, Inbound, Reply
from bot.i18n import t
from handlers.customer.signup import MEMBERSHIP_WORDING
from jobs.housekeeping import purge_expired
from simulator.fakes.telegram_api import TOKEN
from simulator.fakes.telegram_updates import (
    callback_update,
    group_text_update,
    member_update,
    sticker_update,
    text_update,
)
from storage.models import ChannelIdentity, InboxMessage, Member, ProcessedEvent
from storage.raw_session import session_of
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


async def test_a_message_is_dispatched_without_a_worker_thread(
    tg: TelegramWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    hops: list[object] = []

    async def to_thread(function: Any, *args: Any, **kwargs: Any) -> Any:
        hops.append(function)
        return function(*args, **kwargs)

    monkeypatch.setattr(asyncio, "to_thread", to_thread)  # aiogram's way to run a sync filter
    assert await tg.post(text_update(1, USER, "/start")) == 200
    assert await tg.post(group_text_update(2, USER, "/start")) == 200

    assert hops == []
    assert await tg.count(ProcessedEvent) == 1  # the group message filtered out as before


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


async def _unblock_and_start(tg: TelegramWorld) -> list[str]:
    """Block, then unblock with Telegram's "Restart" (a ``my_chat_member`` change to
    ``member`` followed by the app's own ``/start``); the texts the user got."""
    assert await tg.post(member_update(20, USER, old="member", new="kicked")) == 200
    assert await tg.post(member_update(21, USER, old="kicked", new="member")) == 200
    assert await tg.post(text_update(22, USER, "/start")) == 200
    return [call.text for call in tg.fake.sent(USER)]


async def test_unblock_then_automatic_start_welcomes_a_member_back_once(tg: TelegramWorld) -> None:
    now = tg.app.clock.now()
    async with tg.app.uow() as uow:
        member = await uow.members.add(
            Member(name="Ploy", locale="en", joined_at=now, points_balance=0)
        )
        identity = await uow.identities.touch("telegram", str(USER), now)
        identity.member_id = member.id
        await uow.commit()

    texts = await _unblock_and_start(tg)

    assert texts == [t("en", "menu.greeting", name="Ploy")]
    assert not any("privacy" in text.lower() for text in texts)
    reached = await _identity(tg)
    assert reached is not None
    assert reached.reachable is True


async def test_unblock_then_automatic_start_shows_the_notice_once(tg: TelegramWorld) -> None:
    texts = await _unblock_and_start(tg)

    notice = t("th", "signup.membership_notice", version=MEMBERSHIP_WORDING)
    assert texts.count(notice) == 1
    assert len(texts) == 2  # the welcome and the notice, once


async def test_nul_bytes_and_lone_surrogates_are_cleaned_not_lost(tg: TelegramWorld) -> None:
    update = text_update(30, USER, "ขอ\x00สอบถาม\ud800ค่ะ")
    update["message"]["from"]["first_name"] = "Pl\x00oy\udfff"
    assert await tg.post(update) == 200  # json.dumps escapes them as \u0000 and \ud800

    texts = [call.text for call in tg.fake.sent(USER)]
    assert texts == [t("th", "inbox.received")]
    async with tg.app.uow() as uow:
        (message,) = (await session_of(uow).execute(select(InboxMessage))).scalars().all()
    assert message.text == "ขอสอบถาม\ufffdค่ะ"
    identity = await _identity(tg)
    assert identity is not None
    assert identity.display_name == "Ploy\ufffd S."


async def test_update_id_restarted_after_a_quiet_week_is_not_taken_for_a_duplicate(
    tg: TelegramWorld, clock: FrozenClock
) -> None:
    assert await tg.post(text_update(40, USER, "/start")) == 200
    first = len(tg.fake.sent(USER))
    clock.advance(timedelta(days=1))
    assert (await purge_expired(tg.app))["events"] == 0
    assert await tg.post(text_update(40, USER, "/start")) == 200  # a redelivery: still known
    assert len(tg.fake.sent(USER)) == first

    clock.advance(timedelta(days=7))  # no updates for a week: Telegram may restart update_id
    await purge_expired(tg.app)
    assert await tg.post(text_update(40, USER, "/start")) == 200  # a new update, same id
    assert len(tg.fake.sent(USER)) > first
