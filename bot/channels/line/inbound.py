"""LINE webhook events (line-bot-sdk v3's models, or the common ones read from the JSON by
:mod:`bot.channels.line.plain`) → channel-neutral :class:`Inbound`.

Only one-to-one chats count: group and room events, unknown event types and message types
other than text (stickers, photos) give ``None``. Text, postback data and profile names are
cleaned of what PostgreSQL cannot store (:func:`bot.channels.text.clean`). ``standby``
events (another channel module owns the chat) carry no reply token.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from linebot.v3.webhooks import (
    FollowEvent,
    MessageEvent,
    PostbackEvent,
    TextMessageContent,
    UnfollowEvent,
    UserSource,
)

from bot.channels.line.plain import PlainEvent
from bot.channels.text import clean, clean_optional
from bot.core.messages import MAX_EVENT_ID_CHARS, Channel, Identity, Inbound, InboundKind

#: a signed event older than this is refused, whatever its signature (a replay): LINE
#: redelivers for hours, and this stays well inside the event memory (30 days, see
#: ``storage.repositories.events``), so an event old enough for its id to be forgotten is
#: always refused by its timestamp instead (a test checks the two numbers together)
MAX_EVENT_AGE: Final = timedelta(days=7)
#: how far in the future a timestamp may be (clock drift); later ones are refused too, else
#: a body stamped ahead would outlive its forgotten id
MAX_CLOCK_SKEW: Final = timedelta(minutes=5)
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND: Final = timedelta(milliseconds=1)

#: (display name, language) of a LINE user; (None, None) when LINE will not say
ProfileLookup = Callable[[str], Awaitable[tuple[str | None, str | None]]]


def user_of(event: Any) -> str | None:
    """The LINE user id of a one-to-one chat event, else None."""
    source = getattr(event, "source", None)
    if isinstance(source, UserSource) and source.user_id:
        return str(source.user_id)
    return None


def is_standby(event: Any) -> bool:
    mode = getattr(event, "mode", None)
    return mode is not None and str(getattr(mode, "value", mode)) == "standby"


def event_time(event: Any) -> datetime:
    """When LINE says the event happened (its ``timestamp`` is in milliseconds); only for an
    event :func:`within_replay_window` let through (a stamp past any date has no datetime)."""
    return datetime.fromtimestamp(int(event.timestamp) / 1000, tz=UTC)


def _milliseconds(moment: datetime) -> int:
    return (moment - _EPOCH) // _MILLISECOND


def within_replay_window(event: Any, now: datetime) -> bool:
    """Whether ``event``'s timestamp is recent enough (and not too far ahead) to be handled.

    Only a body signed with the channel secret reaches this check, so a refused event is a
    replay of a genuine one (or a redelivery LINE itself gave up on long ago). The stamp is
    compared as LINE's number of milliseconds: one past any date is refused, not an overflow.
    """
    happened = int(event.timestamp)
    return _milliseconds(now - MAX_EVENT_AGE) <= happened <= _milliseconds(now + MAX_CLOCK_SKEW)


def has_storable_id(event: Any) -> bool:
    """Whether the event log can record ``event``'s id (LINE's are 26 characters): one it
    cannot record could not be handled once, so it is not handled at all."""
    return len(event_key(event)) <= MAX_EVENT_ID_CHARS


def event_key(event: Any) -> str:
    """The :attr:`Inbound.event_id` of ``event``: ``line:<webhookEventId>``."""
    return f"line:{event.webhook_event_id}"


def _read(event: Any) -> tuple[InboundKind, str, str | None] | None:
    """(kind, user id, text or postback data) of an event the bot handles, else None."""
    if isinstance(event, PlainEvent):
        return event.kind, event.user_id, event.content
    user_id = user_of(event)
    if user_id is None:
        return None
    if isinstance(event, FollowEvent):
        return InboundKind.FOLLOW, user_id, None
    if isinstance(event, UnfollowEvent):
        return InboundKind.UNFOLLOW, user_id, None
    if isinstance(event, PostbackEvent):
        return InboundKind.ACTION, user_id, str(event.postback.data)
    if isinstance(event, MessageEvent) and isinstance(event.message, TextMessageContent):
        return InboundKind.TEXT, user_id, str(event.message.text)
    return None


async def to_inbound(event: Any, now: datetime, profile: ProfileLookup) -> Inbound | None:
    """The Inbound for ``event`` (the SDK's model or a :class:`PlainEvent`), or None for what
    the bot does not handle.

    ``event_id`` is ``line:<webhookEventId>`` (the bus de-duplicates on it); ``profile`` is
    asked only for follow events, for the name and language to greet the person with.
    """
    read = _read(event)
    if read is None:
        return None
    kind, user_id, content = read
    common: dict[str, Any] = {
        "identity": Identity(Channel.LINE, user_id),
        "received_at": now,
        "event_id": event_key(event),
        "happened_at": event_time(event),
    }
    token = None if is_standby(event) else getattr(event, "reply_token", None)
    if kind is InboundKind.FOLLOW:
        name, language = await profile(user_id)
        return Inbound(
            kind=InboundKind.FOLLOW,
            display_name=clean_optional(name),
            language_code=clean_optional(language),
            reply_token=token,
            **common,
        )
    if kind is InboundKind.UNFOLLOW:
        return Inbound(kind=InboundKind.UNFOLLOW, **common)
    if kind is InboundKind.ACTION:
        return Inbound(kind=kind, action=clean(str(content)), reply_token=token, **common)
    return Inbound(kind=InboundKind.TEXT, text=clean(str(content)), reply_token=token, **common)
