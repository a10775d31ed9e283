"""/dashboard: a single-use link that signs an owner or manager in to the web console.

The rules (who, how long, how many) are :mod:`shop.console`; the console is ``bot.admin``.
The link goes only to the person who asked, in their private chat; it says how long it works
so nobody forwards it hoping it lasts.
"""

from __future__ import annotations

from typing import Final

from bot.core.messages import Reply
from handlers.context import Context
from handlers.router import Audience, Command, Router
from shop.console import LINK_TTL, issue_link

#: where the console's sign-in page lives under CHATCRM_PUBLIC_URL (``bot.admin`` serves it)
SIGNIN_PATH: Final = "/admin/signin/"


async def dashboard(ctx: Context) -> list[Reply]:
    assert ctx.staff is not None
    base = ctx.settings.public_url
    if not base:
        return [ctx.reply("admin.no_public_url")]
    token = await issue_link(ctx.uow, ctx.staff, ctx.locale, ctx.now)
    if token is None:
        return [ctx.reply("admin.too_many_links")]
    minutes = int(LINK_TTL.total_seconds() // 60)
    return [ctx.reply("admin.link", url=f"{base}{SIGNIN_PATH}{token}", minutes=minutes)]


def register(router: Router) -> None:
    """``/dashboard`` (managers and owners; a cashier's console is the chat)."""
    router.command(Command("dashboard", dashboard, Audience.MANAGER, describe="admin.cmd"))
