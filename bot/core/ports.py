"""Ports between the core and the outside: what a channel adapter must offer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

from aiohttp import web

from bot.core.messages import Channel, Reply

#: reads LINE's monthly message quota: ``(limit or None when unlimited, used this month)``
QuotaReader = Callable[[], Awaitable[tuple[int | None, int]]]


class Outbound(Protocol):
    """Sends messages to a person who did not just write (outbox dispatcher, staff replies).

    Raises a :class:`bot.core.errors.ChannelError` subclass when delivery fails; the caller
    decides whether to retry. Adapters degrade what their platform cannot show.
    """

    channel: Channel

    async def push(self, user_id: str, replies: Sequence[Reply]) -> None: ...


class WebhookChannel(Outbound, Protocol):
    """A channel that receives events over HTTP on the shared aiohttp application."""

    def register(self, app: web.Application) -> None:
        """Add this channel's webhook route(s) to ``app``."""

    async def close(self) -> None:
        """Release HTTP sessions; called once when the server stops."""
