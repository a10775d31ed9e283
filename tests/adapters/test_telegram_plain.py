"""The common updates read straight from JSON give the event aiogram's model gives; the rest,
and anything of an unknown shape, is left to aiogram (``None``)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any, Final

import pytest
from aiogram.types import Update
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.channels.telegram.inbound import inbound_from_update
from bot.channels.telegram.plain import common_update
from simulator.fakes.telegram_updates import (
    callback_update,
    contact_update,
    group_text_update,
    member_update,
    sticker_update,
    text_update,
)

NOW = datetime(2026, 3, 3, 7, 30, tzinfo=UTC)
USER = 5550001


def through_aiogram(body: dict[str, Any]) -> Any:
    return inbound_from_update(Update.model_validate(copy.deepcopy(body)), NOW)


def _with(body: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(body)
    place = changed
    for key in path[:-1]:
        place = place[key]
    if value is KeyError:
        del place[path[-1]]
    else:
        place[path[-1]] = value
    return changed


def _button_under_the_bots_message() -> dict[str, Any]:
    """A press under the bot's earlier message as Telegram sends it: the bot as its sender,
    its text's entities and its inline keyboard."""
    body = callback_update(120, USER, "cmd:points")
    body["callback_query"]["message"].update(
        {
            "from": {"id": 123456789, "is_bot": True, "first_name": "Shop", "username": "shop_bot"},
            "text": "⭐ 1,250 points",
            "entities": [{"type": "bold", "offset": 2, "length": 5}],
            "edit_date": 1_767_000_000,
            "reply_markup": {
                "inline_keyboard": [
                    [{"text": "Card", "callback_data": "cmd:card"}],
                    [{"text": "Map", "url": "https://shop.example/map"}],
                ]
            },
        }
    )
    return body


COMMON = {
    "text": text_update(101, USER, "สวัสดีค่ะ"),
    "command": text_update(102, USER, "/points"),
    "start payload": text_update(103, USER, "/start ref_AB-12"),
    "start payload Telegram would not make": text_update(104, USER, "/start <b>x</b>"),
    "NUL and a lone surrogate": text_update(105, USER, "ขอ\x00สอบ\ud800"),
    "Thai name with emoji": _with(
        _with(text_update(106, USER, "ชื่อ"), ("message", "from", "first_name"), "พลอย 🌸"),
        ("message", "from", "last_name"),
        "ใจดี✨",
    ),
    "no last name or language": _with(
        _with(text_update(107, USER, "hi"), ("message", "from", "last_name"), KeyError),
        ("message", "from", "language_code"),
        KeyError,
    ),
    "button": callback_update(110, USER, "su:join"),
    "button under the bot's message": _button_under_the_bots_message(),
    "button under a message no longer visible": _with(
        callback_update(111, USER, "cmd:card"), ("callback_query", "message", "date"), 0
    ),
    "button with empty data": callback_update(112, USER, ""),
    "button data to clean": callback_update(113, USER, "cmd:\x00card\ud800"),
}


@pytest.mark.parametrize("body", COMMON.values(), ids=COMMON.keys())
def test_a_common_update_gives_the_event_aiogram_gives(body: dict[str, Any]) -> None:
    read = common_update(copy.deepcopy(body), NOW)
    assert read is not None
    assert read.update_id == body["update_id"]
    assert read.inbound == through_aiogram(body)
    query = body.get("callback_query")
    assert read.query_id == (query["id"] if query else None)


#: any code point, NUL and lone surrogates included (JSON can carry both)
ANY: Final = st.characters(exclude_categories=())


@given(
    text=st.text(ANY, max_size=60),
    first=st.text(ANY, min_size=1, max_size=20),
    last=st.none() | st.text(ANY, max_size=20),
    language=st.none() | st.text(ANY, max_size=8),
    data=st.text(ANY, max_size=64),
)
@settings(max_examples=150, deadline=None)
def test_any_text_name_and_data_give_the_same_event_both_ways(
    text: str, first: str, last: str | None, language: str | None, data: str
) -> None:
    user = {"id": USER, "is_bot": False, "first_name": first, "last_name": last}
    user["language_code"] = language
    typed = text_update(130, USER, text)
    typed["message"]["from"] = user
    pressed = callback_update(131, USER, data)
    pressed["callback_query"]["from"] = dict(user)
    for body in (typed, pressed):
        read = common_update(copy.deepcopy(body), NOW)
        assert read is not None
        assert read.inbound == through_aiogram(body)


LEFT_TO_AIOGRAM = {
    "group message": group_text_update(201, USER, "/start"),
    "sticker": sticker_update(202, USER),
    "contact": contact_update(203, USER, "0812345678"),
    "block": member_update(204, USER, old="member", new="kicked"),
    "edited message": {"update_id": 205, "edited_message": text_update(205, USER, "x")["message"]},
    "a reply to a message": _with(
        text_update(206, USER, "x"), ("message", "reply_to_message"), {"message_id": 1}
    ),
    "a bot's message": _with(text_update(207, USER, "x"), ("message", "from", "is_bot"), True),
    "update id as text": _with(text_update(208, USER, "x"), ("update_id",), "208"),
    "message id as text": _with(text_update(209, USER, "x"), ("message", "message_id"), "1"),
    "date as text": _with(text_update(210, USER, "x"), ("message", "date"), "2026-01-01"),
    "text as a number": _with(text_update(211, USER, "x"), ("message", "text"), 5),
    "no date": _with(text_update(212, USER, "x"), ("message", "date"), KeyError),
    "no sender": _with(text_update(213, USER, "x"), ("message", "from"), KeyError),
    "an entity of another shape": _with(
        text_update(214, USER, "/start"), ("message", "entities"), [{"type": "bold"}]
    ),
    "two kinds at once": _with(
        text_update(215, USER, "x"), ("callback_query",), callback_update(215, USER, "a")
    ),
    "button in a group": _with(
        callback_update(216, USER, "a"),
        ("callback_query", "message", "chat"),
        {"id": -100123, "type": "group", "title": "Staff"},
    ),
    "button without data (a game)": _with(
        callback_update(217, USER, "a"), ("callback_query", "data"), KeyError
    ),
    "button of an inline message": _with(
        callback_update(218, USER, "a"), ("callback_query", "message"), KeyError
    ),
    "button under a photo": _with(
        callback_update(219, USER, "a"), ("callback_query", "message", "photo"), []
    ),
}


@pytest.mark.parametrize("body", LEFT_TO_AIOGRAM.values(), ids=LEFT_TO_AIOGRAM.keys())
def test_other_updates_and_unknown_shapes_are_left_to_aiogram(body: dict[str, Any]) -> None:
    assert common_update(body, NOW) is None


@pytest.mark.parametrize("body", [[1, 2], {"update_id": "x"}, {"update_id": 1}, None, "x"])
def test_what_is_not_an_update_is_left_to_aiogram_to_refuse(body: Any) -> None:
    assert common_update(body, NOW) is None
