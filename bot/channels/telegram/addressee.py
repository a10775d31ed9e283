"""Whose command a ``/command@username`` is: Telegram's rule is that it is for the bot of that
username only. In a private chat with the shop's bot the suffix is there when someone tapped a
command copied from a message about another bot: acting on it would answer a question asked of
that other bot, so it is left alone like any update the bot does not serve."""

from __future__ import annotations

import logging
import time
from typing import Final

from aiogram import Bot

from bot.channels.telegram.outbound import call
from bot.core.errors import ChannelError
from bot.core.messages import Inbound, InboundKind

log = logging.getLogger(__name__)

#: how long a failed ``getMe`` is not asked again (each ask would hold up that command's reply
#: while Telegram cannot answer)
ASK_AGAIN_AFTER: Final = 60.0


def addressee(inbound: Inbound) -> str | None:
    """The username after ``@`` in the command ``inbound`` starts with, if it has one."""
    if inbound.kind is not InboundKind.TEXT or not inbound.text:
        return None
    words = inbound.text.split(maxsplit=1)
    if not words or not words[0].startswith("/") or "@" not in words[0]:
        return None
    return words[0].split("@", 1)[1]


class OwnUsername:
    """The bot's own username, asked of Telegram (``getMe``) the first time a command names
    one; ``TELEGRAM_BOT_USERNAME`` stands in while Telegram cannot be asked, and for
    :data:`ASK_AGAIN_AFTER` seconds after it could not be."""

    def __init__(self, bot: Bot, configured: str | None) -> None:
        self._bot = bot
        self._configured = (configured or "").strip().lstrip("@") or None
        self._known: str | None = None
        self._not_before = 0.0  # monotonic time of the next ask after a failed one

    async def get(self) -> str | None:
        if self._known is None:
            if time.monotonic() < self._not_before:
                return self._configured
            try:
                self._known = (await call(self._bot.get_me())).username
            except ChannelError as error:
                self._not_before = time.monotonic() + ASK_AGAIN_AFTER
                log.warning("getMe failed, using TELEGRAM_BOT_USERNAME: %s", error)
                return self._configured
        return self._known

    async def for_another_bot(self, inbound: Inbound | None) -> bool:
        """Whether ``inbound`` is a command addressed to a bot other than this one. When the own
        username is not known at all, the command is taken as ours (as before a rename)."""
        named = None if inbound is None else addressee(inbound)
        if named is None:
            return False
        own = await self.get()
        return own is not None and named.casefold() != own.casefold()
