"""The two updates the bot gets most, read straight from their JSON (pure functions, no I/O).

A private chat's text message and a button press under a message of a private chat are most of
what a shop's bot receives. For them the webhook skips aiogram's ``Update`` model and its
``Dispatcher`` (middlewares, router, filters, a log line per update) and makes the same
:class:`Inbound` :mod:`bot.channels.telegram.inbound` makes from the model.

Only an update whose every field is known here and of the type Telegram sends takes this way;
anything else — another kind of update, a group chat, a contact, a field added by a newer Bot
API, a number sent as text — returns ``None`` and goes through aiogram as before, so what the
webhook accepts, refuses with a 400 and ignores does not change. The button's message (the
bot's own earlier message) is read for its chat only; its text and keyboard are checked for
their types, not their contents.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from bot.channels.json_shapes import Check, is_bool, is_int, is_str, list_of, optional, shape
from bot.channels.telegram.inbound import EVENT_PREFIX, Person, action_event, text_event
from bot.core.messages import Inbound


@dataclass(frozen=True, slots=True)
class Common:
    """A common update read: its event (``None``: nothing to act on) and, for a button press,
    the callback query to answer."""

    update_id: int
    inbound: Inbound | None
    query_id: str | None = None


def _date(value: object) -> bool:
    """A Unix time (0: a message the bot can no longer see)."""
    return is_int(value) and 0 <= value < 10**10  # type: ignore[operator]


_USER: Final = shape(
    {
        "id": is_int,
        "is_bot": is_bool,
        "first_name": is_str,
        "last_name": optional(is_str),
        "username": optional(is_str),
        "language_code": optional(is_str),
        "is_premium": optional(is_bool),
        "added_to_attachment_menu": optional(is_bool),
    },
    frozenset({"id", "is_bot", "first_name"}),
)
_PRIVATE_CHAT: Final = shape(
    {
        "id": is_int,
        "type": lambda value: value == "private",
        "first_name": optional(is_str),
        "last_name": optional(is_str),
        "username": optional(is_str),
    },
    frozenset({"id", "type"}),
)
_ENTITY: Final = shape(
    {
        "type": is_str,
        "offset": is_int,
        "length": is_int,
        "url": optional(is_str),
        "language": optional(is_str),
        "custom_emoji_id": optional(is_str),
    },
    frozenset({"type", "offset", "length"}),
)
_BUTTON: Final = shape(
    {"text": is_str, "callback_data": optional(is_str), "url": optional(is_str)},
    frozenset({"text"}),
)
_INLINE_KEYBOARD: Final = shape(
    {"inline_keyboard": list_of(list_of(_BUTTON))}, frozenset({"inline_keyboard"})
)
_MESSAGE_BASE: Final[dict[str, Check]] = {
    "message_id": is_int,
    "date": _date,
    "chat": _PRIVATE_CHAT,
    "from": _USER,
    "text": is_str,
    "entities": optional(list_of(_ENTITY)),
}
#: a person's text message in a private chat
_TEXT_MESSAGE: Final = shape(
    _MESSAGE_BASE, frozenset({"message_id", "date", "chat", "from", "text"})
)
#: the bot's message under which a button was pressed (a text, or no longer visible)
_BUTTON_MESSAGE: Final = shape(
    {
        **_MESSAGE_BASE,
        "edit_date": _date,
        "reply_markup": _INLINE_KEYBOARD,
    },
    frozenset({"message_id", "date", "chat"}),
)
_CALLBACK_QUERY: Final = shape(
    {
        "id": is_str,
        "from": _USER,
        "message": _BUTTON_MESSAGE,
        "chat_instance": is_str,
        "data": is_str,
    },
    frozenset({"id", "from", "message", "chat_instance", "data"}),
)


def common_update(body: object, received_at: datetime) -> Common | None:
    """The event of a private text message or a button press; ``None`` for anything else."""
    # the update's id and one kind of update
    if type(body) is not dict or len(body) != 2 or not is_int(body.get("update_id")):
        return None
    update_id: int = body["update_id"]
    event_id = f"{EVENT_PREFIX}{update_id}"
    message = body.get("message")
    if message is not None:
        if not _TEXT_MESSAGE(message) or message["from"]["is_bot"]:
            return None
        sent_at = datetime.fromtimestamp(message["date"], UTC)
        text = text_event(_person(message["from"]), message["text"], event_id, received_at, sent_at)
        return Common(update_id, text)
    query = body.get("callback_query")
    if query is None or not _CALLBACK_QUERY(query):
        return None
    action = action_event(_person(query["from"]), query["data"], event_id, received_at)
    return Common(update_id, action, query["id"])


def _person(user: dict[str, object]) -> Person:
    return Person(
        user["id"],  # type: ignore[arg-type]
        user["first_name"],  # type: ignore[arg-type]
        user.get("last_name"),  # type: ignore[arg-type]
        user.get("language_code"),  # type: ignore[arg-type]
    )
