"""Telegram updates → channel-neutral :class:`Inbound` events (pure functions, no I/O).

Every text field is cleaned of what PostgreSQL cannot store (:func:`bot.channels.text.clean`).
Only private chats are turned into events: the bot is a one-to-one shop assistant and never
reads groups. Message kinds the product has no use for (photos, stickers, voice) give ``None``
so nothing is stored and nothing is answered, rather than an empty text reaching the inbox.

A message and a block or unblock carry Telegram's ``date`` as when the person did it
(``happened_at``): an update Telegram hands over late (a retry after a 5xx, parallel
connections) then cannot undo what the person did after it. A button press has no date of its
own (its message's is when the bot sent the buttons), so it is dated when received.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from aiogram.enums import ChatMemberStatus, ChatType
from aiogram.types import CallbackQuery, ChatMemberUpdated, Message, Update, User

from bot.channels.text import clean, clean_optional
from bot.core.messages import Channel, Identity, Inbound, InboundKind
from storage.repositories.events import TELEGRAM_PREFIX

#: Telegram's own rule for deep-link payloads; anything else is treated as a plain ``/start``
START_PAYLOAD: Final = re.compile(r"[A-Za-z0-9_-]{1,64}")
#: event ids under this prefix are forgotten sooner (update ids may restart after a week)
EVENT_PREFIX: Final = TELEGRAM_PREFIX
#: statuses after which a private chat counts as "the user has the bot again"
_AWAY: Final = frozenset({ChatMemberStatus.KICKED, ChatMemberStatus.LEFT})


def inbound_from_update(update: Update, received_at: datetime) -> Inbound | None:
    """The one event ``update`` means, or ``None`` when it is nothing the bot acts on."""
    event_id = f"{EVENT_PREFIX}{update.update_id}"
    if update.message is not None:
        return _from_message(update.message, event_id, received_at)
    if update.callback_query is not None:
        return _from_callback(update.callback_query, event_id, received_at)
    if update.my_chat_member is not None:
        return _from_membership(update.my_chat_member, event_id, received_at)
    return None


def sanitize_start(text: str) -> str:
    """Drop a ``/start`` payload Telegram itself would never produce (a hand-typed one)."""
    head, _, payload = text.partition(" ")
    if head.split("@", 1)[0] != "/start":
        return text
    payload = payload.strip()
    if payload and START_PAYLOAD.fullmatch(payload) is None:
        return head
    return f"{head} {payload}" if payload else head


def display_name(user: User) -> str | None:
    """The user's first and last name, cleaned (see :func:`bot.channels.text.clean`)."""
    return full_name(user.first_name, user.last_name)


def full_name(first_name: str, last_name: str | None) -> str | None:
    name = clean(" ".join(part for part in (first_name, last_name) if part)).strip()
    return name or None


def _event(
    user: User, kind: InboundKind, event_id: str, received_at: datetime, **fields: object
) -> Inbound:
    return person_event(_person(user), kind, event_id, received_at, **fields)


@dataclass(frozen=True, slots=True)
class Person:
    """The sender's fields an event keeps (of Telegram's ``User``)."""

    id: int
    first_name: str
    last_name: str | None
    language_code: str | None


def person_event(
    person: Person, kind: InboundKind, event_id: str, received_at: datetime, **fields: object
) -> Inbound:
    """The event ``person`` sent; every text field cleaned."""
    return Inbound(
        identity=Identity(Channel.TELEGRAM, str(person.id)),
        kind=kind,
        received_at=received_at,
        event_id=event_id,
        display_name=full_name(person.first_name, person.last_name),
        language_code=clean_optional(person.language_code),
        **fields,  # type: ignore[arg-type]
    )


def text_event(
    person: Person, text: str, event_id: str, received_at: datetime, sent_at: datetime
) -> Inbound:
    """A typed message (a ``/start`` payload Telegram would not produce dropped), sent at
    ``sent_at`` (the message's ``date``)."""
    return person_event(
        person,
        InboundKind.TEXT,
        event_id,
        received_at,
        text=sanitize_start(clean(text)),
        happened_at=sent_at,
    )


def action_event(person: Person, data: str, event_id: str, received_at: datetime) -> Inbound | None:
    """A button press; ``None`` when its data is empty (nothing to act on)."""
    action = clean(data)
    if not action:
        return None
    return person_event(person, InboundKind.ACTION, event_id, received_at, action=action)


def _from_message(message: Message, event_id: str, received_at: datetime) -> Inbound | None:
    user = message.from_user
    if user is None or user.is_bot or message.chat.type != ChatType.PRIVATE:
        return None
    if message.contact is not None:
        contact = message.contact
        return _event(
            user,
            InboundKind.CONTACT,
            event_id,
            received_at,
            happened_at=message.date,
            contact_phone=clean(contact.phone_number),
            # a forwarded contact card has another (or no) user_id: not proof of the own phone
            contact_is_own=contact.user_id is not None and contact.user_id == user.id,
        )
    if message.text is None:
        return None
    return text_event(_person(user), message.text, event_id, received_at, message.date)


def _from_callback(query: CallbackQuery, event_id: str, received_at: datetime) -> Inbound | None:
    chat = query.message.chat if query.message is not None else None
    if chat is not None and chat.type != ChatType.PRIVATE:
        return None
    return action_event(_person(query.from_user), query.data or "", event_id, received_at)


def _person(user: User) -> Person:
    return Person(user.id, user.first_name, user.last_name, user.language_code)


def _from_membership(
    update: ChatMemberUpdated, event_id: str, received_at: datetime
) -> Inbound | None:
    if update.chat.type != ChatType.PRIVATE:
        return None
    new, old = update.new_chat_member.status, update.old_chat_member.status
    at = update.date
    if new == ChatMemberStatus.KICKED:
        return _event(update.from_user, InboundKind.UNFOLLOW, event_id, received_at, happened_at=at)
    if new == ChatMemberStatus.MEMBER and old in _AWAY:
        return _event(update.from_user, InboundKind.FOLLOW, event_id, received_at, happened_at=at)
    return None
