"""Telegram update JSON → the one Inbound event it means (no network, no database)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from aiogram.types import Update

from bot.channels.telegram.inbound import inbound_from_update
from bot.core.messages import Channel, Identity, Inbound, InboundKind
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


def convert(data: dict[str, Any]) -> Inbound | None:
    return inbound_from_update(Update.model_validate(data), NOW)


def test_text_message_becomes_text_event_keyed_by_update_id() -> None:
    inbound = convert(text_update(101, USER, "สวัสดีค่ะ"))
    assert inbound is not None
    assert inbound.kind is InboundKind.TEXT
    assert inbound.text == "สวัสดีค่ะ"
    assert inbound.event_id == "tg:101"
    assert inbound.identity == Identity(Channel.TELEGRAM, str(USER))
    assert inbound.display_name == "Ploy S."
    assert inbound.language_code == "th"
    assert inbound.received_at == NOW


def test_start_with_deep_link_payload_keeps_the_payload() -> None:
    inbound = convert(text_update(102, USER, "/start ref_AB-12"))
    assert inbound is not None
    assert inbound.text == "/start ref_AB-12"


@pytest.mark.parametrize(
    "typed",
    ["/start <b>x</b>", "/start สาขา", "/start " + "a" * 65, "/start a b"],
)
def test_start_payload_telegram_would_not_produce_is_dropped(typed: str) -> None:
    inbound = convert(text_update(103, USER, typed))
    assert inbound is not None
    assert inbound.text == "/start"


def test_other_commands_keep_their_arguments_as_typed() -> None:
    inbound = convert(text_update(104, USER, "/profile name <Ploy>"))
    assert inbound is not None
    assert inbound.text == "/profile name <Ploy>"


def test_button_press_becomes_action_with_callback_data() -> None:
    inbound = convert(callback_update(105, USER, "signup:consent:yes"))
    assert inbound is not None
    assert inbound.kind is InboundKind.ACTION
    assert inbound.action == "signup:consent:yes"
    assert inbound.identity.user_id == str(USER)


def test_own_shared_contact_is_marked_own() -> None:
    inbound = convert(contact_update(106, USER, "66812345678"))
    assert inbound is not None
    assert inbound.kind is InboundKind.CONTACT
    assert inbound.contact_phone == "66812345678"
    assert inbound.contact_is_own is True


@pytest.mark.parametrize("owner", [777, 0], ids=["someone-else", "no-user-id"])
def test_forwarded_contact_is_not_own(owner: int) -> None:
    inbound = convert(contact_update(107, USER, "+66899999999", owner_id=owner))
    assert inbound is not None
    assert inbound.kind is InboundKind.CONTACT
    assert inbound.contact_is_own is False


def test_blocking_the_bot_becomes_unfollow() -> None:
    inbound = convert(member_update(108, USER, old="member", new="kicked"))
    assert inbound is not None
    assert inbound.kind is InboundKind.UNFOLLOW
    assert inbound.event_id == "tg:108"


def test_unblocking_the_bot_becomes_follow() -> None:
    inbound = convert(member_update(109, USER, old="kicked", new="member"))
    assert inbound is not None
    assert inbound.kind is InboundKind.FOLLOW


def test_sticker_is_ignored() -> None:
    assert convert(sticker_update(110, USER)) is None


def test_group_message_is_ignored() -> None:
    assert convert(group_text_update(111, USER, "/start")) is None


def test_every_text_field_is_cleaned_of_what_postgresql_cannot_store() -> None:
    pressed = callback_update(110, USER, "cmd:\x00card\ud800")
    pressed["callback_query"]["from"]["last_name"] = "S\x00."
    inbound = convert(pressed)
    assert inbound is not None
    assert (inbound.action, inbound.display_name) == ("cmd:card\ufffd", "Ploy S.")
    shared = convert(contact_update(111, USER, "+66\x00812345678"))
    assert shared is not None
    assert shared.contact_phone == "+66812345678"
