"""The webhook side of a channel adapter: routes on the server's shared aiohttp application."""

from __future__ import annotations

from typing import Protocol

from aiohttp import web

from bot.core.ports import Outbound


class WebhookChannel(Outbound, Protocol):
    """A channel that receives events over HTTP on the shared aiohttp application."""

    def register(self, app: web.Application) -> None:
        """Add this channel's webhook route(s) to ``app``."""

    async def close(self) -> None:
        """Release HTTP sessions; called once when the server stops."""
