"""The Telegram webhook's common updates (a private text, a button press) through real HTTP:
read without aiogram's dispatcher, answered as before — a Thai name with emoji, a storm of
429s on the replies, a 400 for an over-long message, a blocked person, a failing bus."""

from __future__ import annotations

import asyncio
import html
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from bot import metrics
from bot.bootstrap import App
from bot.core.clock import FrozenClock
from bot.core.messages import Inbound, Reply
from bot.i18n import t
from simulator.fakes.telegram_api import FakeTelegramAPI, serving
from simulator.fakes.telegram_updates import callback_update, sticker_update, text_update
from storage.models import ChannelIdentity, OutboxMessage, ProcessedEvent
from storage.raw_session import session_of
from tests.e2e.reply_support import process, real_time, until
from tests.e2e.telegram_world import TelegramWorld, telegram_world
from tests.unit.staff_support import make_member

USER = 5550201
THAI_NAME = "พลอย 🌸✨"


@pytest.fixture
async def tg(app: App) -> AsyncIterator[TelegramWorld]:
    async with telegram_world(app) as world:
        yield world


def _dispatched(tg: TelegramWorld, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The update ids that went through aiogram's dispatcher (it still handles them)."""
    seen: list[int] = []
    feed = tg.channel.dispatcher.feed_update

    async def recording(bot: Any, update: Any, **kwargs: Any) -> Any:
        seen.append(update.update_id)
        return await feed(bot, update, **kwargs)

    monkeypatch.setattr(tg.channel.dispatcher, "feed_update", recording)
    return seen


async def test_a_text_and_a_button_are_handled_without_the_dispatcher(
    tg: TelegramWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    dispatched = _dispatched(tg, monkeypatch)
    assert await tg.post(text_update(1, USER, "/start")) == 200
    assert await tg.post(callback_update(2, USER, "nosuch:thing")) == 200
    assert await tg.post(sticker_update(3, USER)) == 200

    assert dispatched == [3]  # only the sticker went through aiogram
    assert await tg.count(ProcessedEvent) == 2
    (answer,) = tg.fake.of("answerCallbackQuery")
    assert answer.params == {"callback_query_id": "cq2"}
    assert answer.content_type == "application/json"
    assert all(call.content_type == "application/json" for call in tg.fake.sent(USER))


async def test_a_thai_name_with_emoji_is_greeted_and_a_newcomers_is_kept(
    tg: TelegramWorld,
) -> None:
    await make_member(tg.app, name=THAI_NAME, user_id=str(USER), locale="th")
    newcomer = text_update(11, USER + 1, "/start")
    newcomer["message"]["from"].update(first_name="พลอย 🌸", last_name="ใจดี✨")

    assert await tg.post(text_update(10, USER, "/start")) == 200
    assert await tg.post(newcomer) == 200

    (greeting,) = tg.fake.sent(USER)
    assert html.unescape(greeting.text) == t("th", "menu.greeting", name=THAI_NAME)
    async with tg.app.uow() as uow:
        identity = await uow.identities.get("telegram", str(USER + 1))
    assert identity is not None
    assert identity.display_name == "พลอย 🌸 ใจดี✨"


async def test_a_blocked_person_pressing_a_button_is_answered_and_marked_unreachable(
    tg: TelegramWorld,
) -> None:
    await make_member(tg.app, user_id=str(USER))
    tg.fake.block(USER)

    assert await tg.post(callback_update(20, USER, "cmd:points")) == 200

    assert tg.fake.of("answerCallbackQuery")  # the spinner stops all the same
    assert tg.fake.sent(USER) == []
    async with tg.app.uow() as uow:
        identity = await uow.identities.get("telegram", str(USER))
    assert identity is not None
    assert identity.reachable is False


async def test_a_button_without_data_is_answered_and_ignored(tg: TelegramWorld) -> None:
    ignored = {"channel": "telegram", "result": "ignored"}
    before = metrics.sample("chatcrm_updates_total", ignored)

    assert await tg.post(callback_update(30, USER, "")) == 200

    assert metrics.sample("chatcrm_updates_total", ignored) == before + 1
    assert tg.fake.of("answerCallbackQuery")
    assert await tg.count(ChannelIdentity) == 0


async def test_a_failing_bus_under_a_button_is_a_500_and_the_button_still_answered(
    tg: TelegramWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def database_down(_inbound: Inbound) -> list[Reply]:
        raise ConnectionRefusedError("database is down")

    monkeypatch.setattr(tg.channel.bus, "handle", database_down)
    assert await tg.post(callback_update(40, USER, "cmd:points")) == 500
    assert tg.fake.of("answerCallbackQuery")
    assert tg.fake.sent(USER) == []


async def _reply_rows(app: App) -> list[OutboxMessage]:
    async with app.uow() as uow:
        query = select(OutboxMessage).where(OutboxMessage.dedupe_key.like("reply:%"))
        return list((await session_of(uow).scalars(query)).all())


async def test_a_storm_of_429s_on_the_replies_is_waited_out_and_each_arrives_once(
    app: App, clock: FrozenClock
) -> None:
    real_time(clock)
    members = [5550300 + n for n in range(8)]
    for user in members:
        await make_member(app, f"ลูกค้า {user} 🍵", f"08{user % 10**8:08d}", user_id=str(user))
    fake = FakeTelegramAPI()
    fake.fail(429, "Too Many Requests: retry after 1", retry_after=1, method="sendMessage", times=6)
    async with serving(fake) as (_, base), process(app, base) as shop:
        statuses = await asyncio.gather(
            *(shop.say(user, "/points") for user in members[:4]),
            *(shop.press(user, "cmd:points") for user in members[4:]),
        )
        assert statuses == [200] * len(members)

        async def all_arrived() -> bool:
            return all(fake.sent(user) for user in members)

        await until(all_arrived, 60, "every reply after the 429s")
    assert sum(1 for call in fake.calls if call.status == 429) == 6
    assert {user: len(fake.sent(user)) for user in members} == dict.fromkeys(members, 1)
    assert len(fake.of("answerCallbackQuery")) == 4


async def test_a_reply_refused_as_too_long_is_recorded_as_failed(
    app: App, clock: FrozenClock
) -> None:
    real_time(clock)
    await make_member(app, user_id=str(USER))
    fake = FakeTelegramAPI()
    fake.fail(400, "Bad Request: message is too long", chat_id=USER)
    async with serving(fake) as (_, base), process(app, base) as shop:
        assert await shop.say(USER, "/points") == 200
    [row] = await _reply_rows(app)
    assert row.status == "failed"
    assert row.error is not None
    assert "message is too long" in row.error
    assert fake.sent(USER) == []
