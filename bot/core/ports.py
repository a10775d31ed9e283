"""Ports between the core and the outside: what a channel adapter must offer.

The webhook side of an adapter (routes on the HTTP server) is not a core concern: it is
:class:`bot.channels.webhook.WebhookChannel`, so the core imports no HTTP library.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol, runtime_checkable

from bot.core.capabilities import ChannelCapabilities
from bot.core.messages import Channel, Reply

#: reads LINE's monthly message quota: ``(limit or None when unlimited, used this month)``
QuotaReader = Callable[[], Awaitable[tuple[int | None, int]]]
#: waits for the turn of the next platform message of a request (the send budget's): called
#: before each message after the first, whose turn the caller waited for
NextTurn = Callable[[], Awaitable[None]]


class Outbound(Protocol):
    """Sends messages to a person who did not just write (outbox dispatcher, staff replies).

    Raises a :class:`bot.core.errors.ChannelError` subclass when delivery fails; the caller
    decides whether to retry. Adapters degrade what their platform cannot show.
    ``capabilities`` declares what the channel can do (multicast, retry keys, reply tokens);
    callers decide by it, never by the channel's name.
    """

    @property
    def channel(self) -> Channel: ...

    @property
    def capabilities(self) -> ChannelCapabilities: ...

    async def push(self, user_id: str, replies: Sequence[Reply]) -> None: ...


@runtime_checkable
class PacedOutbound(Protocol):
    """An :class:`Outbound` whose one request may become several platform messages (a photo
    and a text, a text too long for one message), each counted by the platform on its own:
    ``push_paced`` awaits ``next_turn`` before every message after the first, so they reach
    the chat spaced as single messages do rather than back to back."""

    async def push_paced(
        self, user_id: str, replies: Sequence[Reply], next_turn: NextTurn
    ) -> None: ...
