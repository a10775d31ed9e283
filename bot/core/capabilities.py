"""What each channel can do, so that nothing above the adapters asks which platform it is.

The dispatcher, delivery planning, the rate limiter and the handlers ask a
:class:`ChannelCapabilities` (``capabilities_of(channel)``, or the ``capabilities`` an adapter
declares) instead of comparing a channel's name: "may rows be multicast, and to how many?",
"does a customer message carry a reply token, and for how long?", "does the platform take a
retry key?". The values are the platform facts (``docs``: Telegram Bot API and LINE Messaging
API references); each adapter declares the one for its platform as its ``capabilities``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Final

from bot.core.messages import Channel


@dataclass(frozen=True, slots=True)
class RateBudget:
    """How fast a channel may be sent to, in requests (or messages) a second.

    ``per_chat``: to one chat (None: no such limit); ``per_sender``: overall for the bot
    (None: the endpoints are limited instead); ``per_endpoint``: ``(kind, rate)`` pairs, one
    budget per kind of request (``push``, ``multicast``), the first being the default kind;
    ``per_message``: a token per platform message (each is its own call) rather than one per
    request whatever it carries.
    """

    per_chat: float | None = None
    per_sender: float | None = None
    per_endpoint: tuple[tuple[str, float], ...] = ()
    per_message: bool = False

    def endpoint(self, kind: str) -> float | None:
        """The rate of ``kind`` requests (the first endpoint's for an unknown kind)."""
        rates = dict(self.per_endpoint)
        if kind in rates:
            return rates[kind]
        return self.per_endpoint[0][1] if self.per_endpoint else None


@dataclass(frozen=True, slots=True)
class ChannelCapabilities:
    """One channel's abilities and limits; see the module docstring."""

    channel: Channel
    rates: RateBudget
    #: characters in one text message
    text_max: int
    #: recipients of one request; 1 means the platform has no multicast
    multicast_max: int = 1
    #: platform messages in one request
    messages_per_request: int = 1
    #: how long a reply token of an incoming message may be spent; None: no reply tokens
    reply_token_lifetime: timedelta | None = None
    #: the platform de-duplicates a repeated request carrying the same retry key
    retry_keys: bool = False
    #: media must be at a public URL the platform fetches (False: the bytes are uploaded)
    media_by_url: bool = False
    #: the platform can share a user's own phone number on request
    shares_contact: bool = False
    #: served only while someone runs it (the console): its rows wait without a warning
    on_demand: bool = False
    #: each push and multicast message counts against a monthly quota the shop pays beyond
    #: (LINE's ``line_message_price``); replies to a customer's own message are free
    metered: bool = False

    @property
    def multicast(self) -> bool:
        """One request may carry one content to several recipients."""
        return self.multicast_max > 1

    @property
    def reply_tokens(self) -> bool:
        """Incoming messages carry a token that answers them (free, for a short while)."""
        return self.reply_token_lifetime is not None


#: Bot API: ~30 messages/s per bot and ~1/s per chat, every message its own call; 4096 chars
TELEGRAM_CAPABILITIES: Final = ChannelCapabilities(
    channel=Channel.TELEGRAM,
    rates=RateBudget(per_chat=1.0, per_sender=30.0, per_message=True),
    text_max=4096,
    shares_contact=True,
)

#: Messaging API: push 2,000 and multicast 200 requests/s; multicast to ≤ 500 users, ≤ 5
#: messages a request; reply tokens valid about a minute; ``X-Line-Retry-Key``; media by URL
LINE_CAPABILITIES: Final = ChannelCapabilities(
    channel=Channel.LINE,
    rates=RateBudget(per_endpoint=(("push", 2000.0), ("multicast", 200.0))),
    text_max=5000,
    multicast_max=500,
    messages_per_request=5,
    reply_token_lifetime=timedelta(minutes=1),
    retry_keys=True,
    media_by_url=True,
    metered=True,
)

#: a person at a terminal: no limits worth pacing, served only while ``chatcrm chat`` runs
CONSOLE_CAPABILITIES: Final = ChannelCapabilities(
    channel=Channel.CONSOLE,
    rates=RateBudget(),
    text_max=1_000_000,
    on_demand=True,
)

_BY_CHANNEL: Final = {
    caps.channel: caps for caps in (TELEGRAM_CAPABILITIES, LINE_CAPABILITIES, CONSOLE_CAPABILITIES)
}


def capabilities_of(channel: Channel | str) -> ChannelCapabilities:
    """The capabilities of ``channel`` (a :class:`Channel` or its stored value); raises
    ``ValueError`` for a value that names no channel."""
    return _BY_CHANNEL[Channel(channel)]
