"""Telegram updates as the platform really sends them, beyond a private text and a button: edits,
channel posts, inline queries, groups the bot was added to, contact cards of other people,
commands addressed to another bot and names written to bend the text around them — all POSTed
with the webhook's secret to the real web app, next to the fake Bot API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Final

import pytest
from sqlalchemy import select

from bot.bootstrap import App
from bot.i18n import t
from simulator.fakes.telegram_updates import (
    callback_update,
    contact_update,
    member_update,
    text_update,
)
from storage.models import ChannelIdentity, InboxMessage, Member
from storage.raw_session import session_of
from tests.e2e.telegram_world import TelegramWorld, telegram_world_with_branch
from tests.unit.staff_support import make_member, make_staff

USER = 5550001
CASHIER = 5550002
#: bidi controls that reorder what follows them until closed: embeddings and overrides (closed
#: by U+202C) and isolates (closed by U+2069, which also closes what was opened inside them)
_EMBEDDINGS: Final = frozenset("\u202a\u202b\u202d\u202e")
_ISOLATES: Final = frozenset("\u2066\u2067\u2068")


@pytest.fixture
async def tg(app: App) -> AsyncIterator[TelegramWorld]:
    async with telegram_world_with_branch(app) as world:
        yield world


async def _texts_after(tg: TelegramWorld, update: dict[str, Any], chat: int = USER) -> list[str]:
    before = len(tg.fake.sent(chat))
    assert await tg.post(update) == 200
    return [call.text for call in tg.fake.sent(chat)[before:]]


async def _members(app: App) -> list[Member]:
    async with app.uow() as uow:
        return list((await session_of(uow).execute(select(Member))).scalars().all())


async def _rows(app: App, model: Any) -> int:
    async with app.uow() as uow:
        return len((await session_of(uow).execute(select(model))).scalars().all())


async def _to_phone_step(tg: TelegramWorld, name: str = "พลอย") -> None:
    await _texts_after(tg, text_update(1, USER, "/start"))
    await _texts_after(tg, callback_update(2, USER, "su:join"))
    await _texts_after(tg, callback_update(3, USER, "su:mkt:no"))
    asked = await _texts_after(tg, text_update(4, USER, name))
    assert asked == [t("th", "signup.ask_phone")]


@pytest.mark.parametrize("owner_id", [777, 0], ids=["another-user", "no-user-id"])
async def test_someone_elses_contact_card_at_the_phone_step_is_not_taken(
    tg: TelegramWorld, owner_id: int
) -> None:
    """A contact card forwarded or picked from the address book carries another (or no)
    ``user_id``: it is not proof of the member's own phone."""
    await _to_phone_step(tg)
    answer = await _texts_after(tg, contact_update(5, USER, "+66899999999", owner_id=owner_id))
    assert answer[-1] == t("th", "signup.ask_phone")  # asked again, not on to the birthday
    after_typed = await _texts_after(tg, text_update(6, USER, "0812345678"))
    assert after_typed[-1] == t("th", "signup.ask_birthday")
    await _texts_after(tg, text_update(7, USER, "01/05/2530"))
    await _texts_after(tg, callback_update(8, USER, "su:g:skip"))
    await _texts_after(tg, callback_update(9, USER, "su:b:skip"))
    [member] = await _members(tg.app)
    assert member.phone == "+66812345678"


def _edited(update_id: int, text: str) -> dict[str, Any]:
    update = text_update(update_id, USER, text)
    message = update.pop("message")
    update["edited_message"] = message | {"edit_date": message["date"]}
    return update


def _channel_post(update_id: int) -> dict[str, Any]:
    update = text_update(update_id, USER, "/points")
    post = update.pop("message")
    del post["from"]
    post["chat"] = {"id": -1001234, "type": "channel", "title": "Shop news"}
    update["channel_post"] = post
    return update


def _in_chat(update: dict[str, Any], kind: str) -> dict[str, Any]:
    update["message"]["chat"] = {"id": -1001234, "type": kind, "title": "Friends"}
    return update


def _added_to_group(update_id: int) -> dict[str, Any]:
    update = member_update(update_id, USER, "left", "member")
    update["my_chat_member"]["chat"] = {"id": -1001234, "type": "supergroup", "title": "Friends"}
    return update


def _inline_query(update_id: int) -> dict[str, Any]:
    user = {"id": USER, "is_bot": False, "first_name": "Ploy"}
    query = {"id": "iq1", "from": user, "query": "points", "offset": ""}
    return {"update_id": update_id, "inline_query": query}


def _media(update_id: int, **content: Any) -> dict[str, Any]:
    update = text_update(update_id, USER, "-")
    del update["message"]["text"]
    update["message"] |= content
    return update


async def test_updates_the_bot_does_not_serve_are_answered_200_with_nothing_done(
    tg: TelegramWorld,
) -> None:
    """Edits, channel posts, inline queries, group and supergroup messages (a command to us
    included), the bot added to a group, and a photo whose caption is a command: Telegram gets
    its 200 (no retry storm), nobody gets a message, nothing is stored."""
    await make_member(tg.app, "Ploy", "0812345678", user_id=str(USER))
    identities = await _rows(tg.app, ChannelIdentity)
    photo = [{"file_id": "p", "file_unique_id": "pu", "width": 90, "height": 90}]
    updates = [
        _edited(11, "/points"),
        _channel_post(12),
        _inline_query(13),
        _in_chat(text_update(14, USER, "/points@chatcrm_test_bot"), "group"),
        _in_chat(text_update(15, USER, "/start"), "supergroup"),
        _added_to_group(16),
        _media(17, photo=photo, caption="/points"),
        _media(18, location={"latitude": 13.7375, "longitude": 100.5604}),
        _media(19, voice={"file_id": "v", "file_unique_id": "vu", "duration": 2}),
    ]
    for update in updates:
        assert await tg.post(update) == 200, update
    assert tg.fake.sent() == []
    assert await _rows(tg.app, InboxMessage) == 0
    assert await _rows(tg.app, ChannelIdentity) == identities


async def test_a_start_payload_telegram_cannot_send_is_a_plain_welcome(tg: TelegramWorld) -> None:
    """A hand-typed ``/start`` with 65 characters or a space inside: the ordinary welcome."""
    plain = await _texts_after(tg, text_update(1, USER, "/start"))
    for update_id, payload in enumerate(("A" * 65, "ref code", "ร้าน"), 2):
        user = USER + update_id
        assert await _texts_after(tg, text_update(update_id, user, f"/start {payload}"), user) == (
            plain
        ), payload


async def test_a_command_addressed_to_another_bot_is_not_run_as_ours(tg: TelegramWorld) -> None:
    """Telegram's own rule: a ``/command@username`` is for the bot of that username. Ours is
    ``chatcrm_test_bot``; ``/points@OtherBot`` must not show the balance as if it were ours."""
    await make_member(tg.app, "Ploy", "0812345678", user_id=str(USER))
    ours = await _texts_after(tg, text_update(1, USER, "/points@chatcrm_test_bot"))
    theirs = await _texts_after(tg, text_update(2, USER, "/points@OtherBot"))
    assert theirs != ours
    # nothing at all: no reply, no inbox row (it was not written to the shop)
    assert theirs == []
    assert await _rows(tg.app, InboxMessage) == 0
    # Telegram usernames are case-insensitive: a capitalised suffix is still ours
    assert await _texts_after(tg, text_update(3, USER, "/points@ChatCRM_Test_Bot")) == ours
    assert [call.method for call in tg.fake.calls].count("getMe") == 1  # asked once


async def test_a_name_with_a_bidi_override_cannot_reorder_the_cashiers_figures(
    tg: TelegramWorld,
) -> None:
    """A member writes their name as U+202E + a reversed name. Everything after it on the same
    line of a staff message — amount, points, balance — is then drawn right to left (``฿5,000``
    reads ``000,5฿``). The name must not carry an open override into the text around it."""
    await make_staff(tg.app, str(CASHIER), "cashier", "asoke")
    await _to_phone_step(tg, name="\u202eyolP")
    await _texts_after(tg, contact_update(5, USER, "66812345678"))
    await _texts_after(tg, text_update(6, USER, "01/05/2530"))
    await _texts_after(tg, callback_update(7, USER, "su:g:skip"))
    await _texts_after(tg, callback_update(8, USER, "su:b:skip"))
    [member] = await _members(tg.app)
    confirmation = await _texts_after(
        tg, text_update(9, CASHIER, f"/sale {member.member_code} 5000"), CASHIER
    )
    assert confirmation
    for line in "\n".join(confirmation).splitlines():
        assert _still_open(line) == [], line


def _still_open(line: str) -> list[str]:
    """The bidi controls of ``line`` left open at its end (they reorder the rest of it)."""
    stack: list[str] = []
    for char in line:
        if char in _EMBEDDINGS or char in _ISOLATES:
            stack.append(char)
        elif char == "\u202c" and stack and stack[-1] in _EMBEDDINGS:
            stack.pop()
        elif char == "\u2069" and any(c in _ISOLATES for c in stack):
            while stack.pop() not in _ISOLATES:
                pass
    return stack


async def test_a_bot_api_that_cannot_say_who_the_bot_is_is_not_asked_at_every_command(
    tg: TelegramWorld,
) -> None:
    """``getMe`` failing (Telegram unreachable for a while): the commands naming a bot are
    answered as before the name was known, and Telegram is not asked again for each of them
    (each ask would hold that member's reply up)."""
    await make_member(tg.app, "Ploy", "0812345678", user_id=str(USER))
    tg.fake.fail(502, "Bad Gateway", method="getMe")
    first = await _texts_after(tg, text_update(1, USER, "/points@chatcrm_test_bot"))
    second = await _texts_after(tg, text_update(2, USER, "/points@chatcrm_test_bot"))
    assert first
    assert second == first
    assert [call.method for call in tg.fake.calls].count("getMe") == 1
