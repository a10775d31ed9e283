"""Channel-neutral message values.

Every channel adapter turns what its platform delivers into one :class:`Inbound` and turns the
:class:`Reply` values a handler returns into whatever its platform can show, degrading what it
cannot (buttons become numbered text, an image becomes a link or a line of text).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

#: Telegram's callback_data limit; LINE allows 300, so the smaller one rules every channel.
MAX_ACTION_BYTES: Final = 64
#: the longest ``Inbound.event_id`` the event log holds (``processed_events.event_key``); an
#: event with a longer id (no platform's is near it) cannot be recorded, so it is not handled
MAX_EVENT_ID_CHARS: Final = 128


class Channel(enum.StrEnum):
    TELEGRAM = "telegram"
    LINE = "line"
    CONSOLE = "console"


@dataclass(frozen=True, slots=True)
class Identity:
    """Who wrote, as their channel names them (ids differ per channel and per LINE provider)."""

    channel: Channel
    user_id: str

    def __str__(self) -> str:
        return f"{self.channel.value}:{self.user_id}"


class InboundKind(enum.StrEnum):
    TEXT = "text"  # typed text, commands included
    ACTION = "action"  # a button press (Telegram callback, LINE postback, console choice)
    CONTACT = "contact"  # a phone number shared through the platform (Telegram contact)
    FOLLOW = "follow"  # added / unblocked the bot
    UNFOLLOW = "unfollow"  # blocked the bot


@dataclass(frozen=True, slots=True)
class Inbound:
    """One event from one person, as every channel delivers it.

    ``event_id`` is the channel's de-duplication key (Telegram ``update_id``, LINE
    ``webhookEventId``), prefixed by the channel; ``None`` where the channel has none (console).
    """

    identity: Identity
    kind: InboundKind
    received_at: datetime
    event_id: str | None = None
    text: str = ""
    action: str | None = None
    contact_phone: str | None = None
    #: True only when the shared contact is the sender's own (not a forwarded card).
    contact_is_own: bool = False
    display_name: str | None = None
    #: the platform's language hint (Telegram ``language_code``, LINE profile ``language``)
    language_code: str | None = None
    #: LINE's single-use reply token, kept so a later staff reply can still use it while fresh
    reply_token: str | None = None
    #: when the person did it, as the platform stamps it (LINE's ``timestamp``: a redelivered
    #: event keeps it); None where the channel gives none (then: when it was received)
    happened_at: datetime | None = None


class ButtonKind(enum.StrEnum):
    ACTION = "action"  # sends ``action`` back as an ACTION inbound
    SHARE_CONTACT = "share_contact"  # asks the platform to share the user's own phone number
    URL = "url"  # opens ``url``


@dataclass(frozen=True, slots=True)
class Button:
    label: str
    action: str = ""
    kind: ButtonKind = ButtonKind.ACTION
    url: str = ""

    def __post_init__(self) -> None:
        if self.kind is ButtonKind.ACTION:
            size = len(self.action.encode())
            if not 0 < size <= MAX_ACTION_BYTES:
                raise ValueError(f"action must be 1..{MAX_ACTION_BYTES} bytes: {self.action!r}")


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file sent with a reply: an image (PNG) or a document (for example a data export)."""

    filename: str
    content: bytes
    mime_type: str
    #: where a channel serves media by URL, the link works until then instead of the channel's
    #: usual lifetime (a coupon's QR lives as long as the coupon)
    valid_until: datetime | None = None
    #: the coupon whose QR this is: its link stops working once the coupon is used
    coupon_id: int | None = None

    @property
    def is_image(self) -> bool:
        return self.mime_type.startswith("image/")


@dataclass(frozen=True, slots=True)
class MemberCardView:
    """What a member card shows; LINE renders it as a Flex bubble, others as an image + caption."""

    name: str
    member_code: str
    tier: str
    points: int
    qr_payload: str
    qr_png: bytes
    #: the shop's name as /settings keeps it, in the member's language ("" = the configured one)
    shop: str = ""


@dataclass(frozen=True, slots=True)
class Reply:
    """One message to the person who wrote. ``text`` is plain text: adapters escape it."""

    text: str = ""
    buttons: tuple[Button, ...] = ()
    attachment: Attachment | None = None
    card: MemberCardView | None = None
    #: shown with the buttons where a channel has a place for it (LINE alt text, console header)
    meta: dict[str, str] = field(default_factory=dict, hash=False, compare=False)
