"""The LINE events the bot gets most, read straight from the webhook's JSON (pure functions).

A one-to-one chat's text message, a postback (a button press), a follow and an unfollow are
nearly all of what a shop's LINE account receives. For a body made only of these the webhook
skips line-bot-sdk's ``WebhookParser`` models (pydantic, per event and per nested object) and
reads the fields :func:`bot.channels.line.inbound.to_inbound` needs into a :class:`PlainEvent`,
which it turns into the same :class:`Inbound` it makes from the SDK's event.

Only an event whose every field is known here and of the JSON type the SDK's strict models
accept (``StrictStr``, ``StrictInt``, ``StrictBool``; a required field present) takes this way;
a body with any other event — a group or room, a sticker, a text with emojis or a mention, a
postback with ``params``, a field the SDK does not know, a number sent as text — goes through
the SDK's parser as a whole, so what the webhook accepts, refuses with a 400 and ignores does
not change. The signature is checked before either (:class:`bot.channels.line.events.Events`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from bot.channels.json_shapes import (
    Check,
    is_bool,
    is_int,
    is_str,
    list_of,
    one_of,
    optional,
    shape,
)
from bot.core.messages import InboundKind


@dataclass(frozen=True, slots=True)
class PlainEvent:
    """What the bot reads of a common event, under the SDK model's attribute names (the
    webhook's replay window, standby check and log line read either alike)."""

    webhook_event_id: str
    timestamp: int
    mode: str
    kind: InboundKind
    user_id: str
    reply_token: str | None
    #: the message's text or the postback's data, as sent (cleaned when the Inbound is made)
    content: str | None = None


def _user_id(value: object) -> bool:
    """A user's id (an empty one is not a one-to-one chat's: the SDK's path ignores it)."""
    return is_str(value) and value != ""


_SOURCE: Final = shape(
    {"type": one_of({"user"}), "userId": _user_id}, frozenset({"type", "userId"})
)
_DELIVERY: Final = shape({"isRedelivery": is_bool}, frozenset({"isRedelivery"}))
#: the fields of every event (``linebot.v3.webhooks.Event``); all but ``source`` required
_EVENT: Final[dict[str, Check]] = {
    "type": is_str,
    "source": _SOURCE,
    "timestamp": is_int,
    "mode": one_of({"active", "standby"}),
    "webhookEventId": is_str,
    "deliveryContext": _DELIVERY,
}
_REQUIRED: Final = frozenset(
    {"type", "source", "timestamp", "mode", "webhookEventId", "deliveryContext"}
)
_TEXT: Final = shape(
    {
        "type": one_of({"text"}),
        "id": is_str,
        "text": is_str,
        "quoteToken": is_str,
        "quotedMessageId": optional(is_str),
        "markAsReadToken": optional(is_str),
    },
    frozenset({"type", "id", "text", "quoteToken"}),
)
_POSTBACK: Final = shape({"data": is_str}, frozenset({"data"}))
_FOLLOW: Final = shape({"isUnblocked": is_bool}, frozenset({"isUnblocked"}))

#: event type → (the check of its whole event, the kind of Inbound it makes)
_KINDS: Final[dict[str, tuple[Check, InboundKind]]] = {
    "message": (
        shape(
            {**_EVENT, "replyToken": optional(is_str), "message": _TEXT},
            _REQUIRED | {"message"},
        ),
        InboundKind.TEXT,
    ),
    "postback": (
        shape(
            {**_EVENT, "replyToken": optional(is_str), "postback": _POSTBACK},
            _REQUIRED | {"postback"},
        ),
        InboundKind.ACTION,
    ),
    "follow": (
        shape(
            {**_EVENT, "replyToken": is_str, "follow": _FOLLOW},
            _REQUIRED | {"replyToken", "follow"},
        ),
        InboundKind.FOLLOW,
    ),
    "unfollow": (shape(_EVENT, _REQUIRED), InboundKind.UNFOLLOW),
}
_BODY: Final = shape(
    {"destination": is_str, "events": list_of(lambda _event: True)}, frozenset({"events"})
)


def common_event(event: object) -> PlainEvent | None:
    """The :class:`PlainEvent` of a common event; ``None`` for anything else."""
    if type(event) is not dict:
        return None
    known = _KINDS.get(event.get("type"))  # type: ignore[arg-type]
    if known is None:
        return None
    check, kind = known
    if not check(event):
        return None
    if kind is InboundKind.TEXT:
        content: str | None = event["message"]["text"]
    elif kind is InboundKind.ACTION:
        content = event["postback"]["data"]
    else:
        content = None
    return PlainEvent(
        webhook_event_id=event["webhookEventId"],
        timestamp=event["timestamp"],
        mode=event["mode"],
        kind=kind,
        user_id=event["source"]["userId"],
        reply_token=event.get("replyToken"),
        content=content,
    )


def common_events(body: object) -> list[PlainEvent] | None:
    """The events of a body made only of common events (``[]`` for LINE's URL check);
    ``None`` when any one is not, so the SDK reads the body whole."""
    if not _BODY(body):
        return None
    events = []
    for event in body["events"]:  # type: ignore[index]
        plain = common_event(event)
        if plain is None:
            return None
        events.append(plain)
    return events
