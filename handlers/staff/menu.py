"""The staff menu: which commands a role has, as text, buttons and a channel menu request.

Staff commands are shown only to staff. Channels differ in how: Telegram keeps a command list
per chat, so a reply carrying ``meta["menu"] = <role>`` asks the Telegram adapter to set that
chat's command menu (``"customer"`` resets it to the customer menu); LINE and the console show
the commands as text with quick-reply buttons whenever staff ask (``/staffmenu`` or the
keywords ``staff`` / ``พนักงาน``).
"""

from __future__ import annotations

from typing import Final

from bot.core.keys import CommandAction
from bot.core.messages import Button, Reply
from handlers.context import Context
from handlers.router import STAFF_RANK, Audience, Command, Handler, Router, has_role

#: the ``meta`` keys a channel adapter reads (see :mod:`bot.channels.telegram.menu`)
MENU_META: Final = "menu"
LOCALE_META: Final = "locale"
CUSTOMER_MENU: Final = "customer"
#: LINE shows at most 13 quick replies; one stays free for the adapter's own use
MAX_MENU_BUTTONS: Final = 12


def menu_meta(role: str, locale: str) -> dict[str, str]:
    """What a reply carries to make a channel show ``role``'s command menu in ``locale``."""
    return {MENU_META: role, LOCALE_META: locale}


def staff_commands(router: Router, role: str) -> list[Command]:
    """The staff commands ``role`` may use (customer commands left out), in menu order."""
    return [c for c in router.menu(role) if c.audience.is_staff]


def command_lines(ctx: Context, commands: list[Command]) -> list[str]:
    return [f"/{c.name} — {ctx.t(c.describe)}" for c in commands if c.describe]


def staff_menu_reply(ctx: Context, router: Router, role: str) -> Reply:
    """The staff commands of ``role`` as text and buttons, asking channels to show the menu."""
    commands = staff_commands(router, role)
    title = ctx.t("staff.menu_title", role=ctx.t(f"staff.role_{role}"))
    lines = [title, *command_lines(ctx, commands)]
    buttons = tuple(
        Button(label=f"/{c.name}", action=CommandAction(c.name).format())
        for c in _pressable(commands)
    )
    return Reply(text="\n".join(lines), buttons=buttons, meta=menu_meta(role, ctx.locale))


def _pressable(commands: list[Command]) -> list[Command]:
    """The commands that get a button when there are more than fit: the ones that need the
    highest role first (what only this person may do), shown in menu order."""
    candidates = [c for c in commands if c.name != "staffmenu"]
    chosen = sorted(candidates, key=lambda c: -STAFF_RANK[c.audience])[:MAX_MENU_BUTTONS]
    return [c for c in candidates if c in chosen]


def staff_menu_handler(router: Router) -> Handler:
    """``/staffmenu`` (staff): their commands, and the Telegram chat menu refreshed."""

    async def show_staff_menu(ctx: Context) -> list[Reply]:
        assert ctx.staff is not None  # the router let only staff in
        return [staff_menu_reply(ctx, router, ctx.staff.role)]

    return show_staff_menu


def staff_keyword_handler(router: Router) -> Handler:
    """The bare words ``staff`` / ``พนักงาน`` (anyone): the staff menu for staff; for anyone
    else the text is an ordinary message to the shop ("พนักงานสุภาพมาก" is feedback, not a
    command), so it goes where any other text goes."""

    async def staff_keyword(ctx: Context) -> list[Reply]:
        if ctx.staff is not None and has_role(ctx, Audience.CASHIER):
            return [staff_menu_reply(ctx, router, ctx.staff.role)]
        stepped = await router.step(ctx)
        if stepped is not None:
            return stepped
        return await router.fallback(ctx) if router.fallback is not None else []

    return staff_keyword


def staff_greeting(router: Router, customer_follow: Handler) -> Handler:
    """A follow (or the console opening) from a staff account that is not also a member shows
    the staff menu instead of the customer sign-up; everyone else gets ``customer_follow``."""

    async def on_follow(ctx: Context) -> list[Reply]:
        if ctx.staff is not None and ctx.member is None and has_role(ctx, Audience.CASHIER):
            return [staff_menu_reply(ctx, router, ctx.staff.role)]
        return await customer_follow(ctx)

    return on_follow
