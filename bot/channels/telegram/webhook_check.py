"""At ``serve``'s start: does Telegram send this bot's updates here?

A webhook is registered by ``chatcrm telegram setup``, once per bot and address. ``serve``
started with a new bot's token (a new bot from @BotFather), or after the shop moved to another
address, runs deaf: Telegram sends the updates nowhere, or to the old address, and nothing in
``serve`` would say so. So ``serve`` asks ``getWebhookInfo`` once as it starts and logs one
warning pointing to ``chatcrm telegram setup`` when the webhook is not set, or is set to
another address than ``CHATCRM_PUBLIC_URL``'s. Telegram not answering (within
:data:`CHECK_SECONDS`) or refusing is logged too, and ``serve`` starts all the same.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Final

from bot.channels.telegram.session import BotSession
from bot.core.errors import ChannelError, CredentialsRejected

log = logging.getLogger(__name__)

#: how long ``serve``'s start waits for Telegram's answer
CHECK_SECONDS: Final = 3.0
SETUP: Final = "run `chatcrm telegram setup`"


def webhook_warning(info: Any, expected: str | None) -> str | None:
    """The warning for ``getWebhookInfo``'s ``info`` when the webhook should be ``expected``
    (None: no ``CHATCRM_PUBLIC_URL``, only an unset webhook is known to be wrong); None: fine."""
    url = info.get("url") if isinstance(info, dict) else None
    if not url:
        where = f"{expected}" if expected else "this server's https address (CHATCRM_PUBLIC_URL)"
        return (
            "Telegram sends this bot's updates nowhere: no webhook is set for it (a new bot?), "
            f"so serve hears nothing from Telegram. To register {where}, {SETUP}."
        )
    if expected is not None and url != expected:
        return (
            f"Telegram sends this bot's updates to {url}, not to {expected}: to move the "
            f"webhook here, {SETUP} (or check CHATCRM_PUBLIC_URL)."
        )
    return None


async def check_webhook(session: BotSession, token: str, expected: str | None) -> None:
    """Ask Telegram where this bot's updates go and log a warning if not to ``expected``;
    never raises (``serve`` starts whatever the answer)."""
    try:
        async with asyncio.timeout(CHECK_SECONDS):
            info = await session.post(token, "getWebhookInfo", {})
    except CredentialsRejected as error:
        log.warning("Telegram refused the bot's token (%s): check %s", error, error.setting)
        return
    except (ChannelError, TimeoutError) as error:
        log.warning("could not ask Telegram where this bot's updates go: %r", error)
        return
    if (warning := webhook_warning(info, expected)) is not None:
        log.warning(warning)
