"""The bot in chats several people read, from outside: a Telegram supergroup where two members
and a cashier type the personal and staff commands (and press a forged button), and a LINE
group and room with the same, all as real signed webhooks.

A careful shop bot never shows one person's balance, phone, QR or data in a chat others read,
never starts a sign-up or an erasure there, and never files a group's chatter in the inbox
under one of its members. This product stays silent in groups (its documented choice: it is a
one-to-one shop assistant); these tests pin that nothing at all leaves it and nothing changes,
and that the same person's private chat still works right after.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.bootstrap import App
from bot.core.messages import Channel
from simulator.fakes.line_webhooks import postback_event, text_event
from simulator.fakes.telegram_updates import callback_update, text_update
from storage.models import Base, ChannelIdentity, InboxMessage, Member, Sale
from tests.e2e.telegram_world import TelegramWorld, telegram_world
from tests.storage.test_line_redelivery_order import USER as LINE_USER
from tests.storage.test_line_redelivery_order import Line, line
from tests.unit.staff_support import make_member, make_staff

__all__ = ["line"]  # the LINE world fixture

PLOY, NOK, CASHIER = 5552101, 5552102, 5552199
GROUP = {"id": -1009876543210, "type": "supergroup", "title": "Ploy & Nok & shop"}
PERSONAL = ("/points", "/card", "/mydata", "/history", "/profile", "/coupons", "/invite")
STAFF = ("/customer 0812345678", "/sale 0812345678 250", "/sale 0899999999 99", "/inbox")
#: the personal data of the two members that must appear in no call to the Bot API
PLOY_PHONE, NOK_PHONE = "0812345678", "0899999999"

ids = itertools.count(81_000)


@pytest.fixture
async def tg(app: App) -> AsyncIterator[TelegramWorld]:
    async with telegram_world(app) as world:
        yield world


def _in_group(update: dict[str, Any]) -> dict[str, Any]:
    if "message" in update:
        update["message"]["chat"] = dict(GROUP)
    else:
        update["callback_query"]["message"]["chat"] = dict(GROUP)
    return update


async def _count(app: App, model: type[Base]) -> int:
    async with app.engine.connect() as connection:
        return int((await connection.execute(select(func.count()).select_from(model))).scalar_one())


async def _phones(app: App) -> list[str | None]:
    async with app.engine.connect() as connection:
        rows = await connection.execute(select(Member.phone).order_by(Member.id))
        return [phone for (phone,) in rows]


async def test_a_supergroup_of_members_and_a_cashier_gets_nothing_and_changes_nothing(
    tg: TelegramWorld,
) -> None:
    await make_member(tg.app, "Ploy", PLOY_PHONE, user_id=str(PLOY), points=120)
    await make_member(tg.app, "Nok", NOK_PHONE, user_id=str(NOK), points=40)
    await make_staff(tg.app, str(CASHIER), "cashier", "asoke")
    phones, identities = await _phones(tg.app), await _count(tg.app, ChannelIdentity)

    updates = [text_update(next(ids), PLOY, text) for text in (*PERSONAL, "/deleteme")]
    updates += [text_update(next(ids), NOK, f"{text}@chatcrm_test_bot") for text in PERSONAL]
    updates += [text_update(next(ids), CASHIER, text) for text in STAFF]
    updates += [
        text_update(next(ids), NOK, "/start"),  # no sign-up in front of everyone
        text_update(next(ids), NOK, "Ploy's number is 0812345678, call her"),
        callback_update(next(ids), PLOY, "del:yes"),  # a forged erasure button in the group
    ]
    for update in updates:
        assert await tg.post(_in_group(update)) == 200

    assert tg.fake.sent() == [], [(c.method, c.chat_id, c.text) for c in tg.fake.sent()]
    assert await _count(tg.app, InboxMessage) == 0
    assert await _count(tg.app, Sale) == 0
    assert await _phones(tg.app) == phones  # Ploy was not erased
    assert await _count(tg.app, ChannelIdentity) == identities

    # the same person in the private chat: answered there, and only there
    assert await tg.post(text_update(next(ids), PLOY, "/points")) == 200
    sent = tg.fake.sent()
    assert sent
    assert {call.chat_id for call in sent} == {PLOY}
    assert "120" in " ".join(call.text or "" for call in sent)


async def test_a_channel_post_and_the_bot_added_to_a_group_stay_unanswered(
    tg: TelegramWorld,
) -> None:
    await make_member(tg.app, "Ploy", PLOY_PHONE, user_id=str(PLOY))
    post = text_update(next(ids), PLOY, "/mydata")
    message = post.pop("message")
    del message["from"]
    message["chat"] = {"id": -1001112223334, "type": "channel", "title": "Shop news"}
    message["sender_chat"] = message["chat"]
    post["channel_post"] = message
    assert await tg.post(post) == 200
    assert tg.fake.sent() == []
    assert await _count(tg.app, InboxMessage) == 0


def _group_source(event: dict[str, Any], kind: str) -> dict[str, Any]:
    key = "groupId" if kind == "group" else "roomId"
    event["source"] = {"type": kind, key: f"{kind[0].upper()}4af4980629", "userId": LINE_USER}
    return event


@pytest.mark.parametrize("kind", ["group", "room"])
async def test_a_line_group_or_room_gets_no_members_data_and_erases_nobody(
    line: Line, kind: str
) -> None:
    await make_member(line.app, "Ploy", PLOY_PHONE, user_id=LINE_USER, channel=Channel.LINE)
    now = line.app.clock.now()
    events = [
        _group_source(
            text_event(LINE_USER, text, line.fake.issue_reply_token(LINE_USER), now), kind
        )
        for text in (*PERSONAL, "/deleteme", "แต้ม", "ลบข้อมูล", "my phone is 0812345678")
    ]
    events.append(
        _group_source(
            postback_event(LINE_USER, "del:yes", line.fake.issue_reply_token(LINE_USER), now), kind
        )
    )
    assert await line.post(*events) == 200

    assert line.fake.delivered() == []
    assert await _count(line.app, InboxMessage) == 0
    assert await _phones(line.app) == ["+66812345678"]
