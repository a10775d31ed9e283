"""Ports between the core and the outside: what a channel adapter must offer.

The webhook side of an adapter (routes on the HTTP server) is not a core concern: it is
:class:`bot.channels.webhook.WebhookChannel`, so the core imports no HTTP library.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

from bot.core.capabilities import ChannelCapabilities
from bot.core.messages import Channel, Reply

#: reads LINE's monthly message quota: ``(limit or None when unlimited, used this month)``
QuotaReader = Callable[[], Awaitable[tuple[int | None, int]]]


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
