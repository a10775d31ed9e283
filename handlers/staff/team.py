"""``/staff``: the team — list, invite, remove.

Who sees and manages whom: the owner sees every active staff account and may remove anyone
except the last owner (the shop would be left without anyone to run it; the CLI can always
invite a new owner). A manager sees the staff of their own branch (a manager without a branch:
everyone) and may remove cashiers among them. Cashiers have no ``/staff`` at all.

Removal is a button (``stf:rm:<id>``) then a confirmation (``stf:rmok:<id>``); both re-check
these rules, whatever the button said. The removal counts the owners with their rows locked
(:meth:`~storage.repositories.staff.StaffMembers.lock_owners`), so two owners removing each
other at the same instant leave one: the second waits, then finds itself removed or the other
the last owner. Removal also revokes the invites the removed person made
(``handlers.staff.invite_list``: ``/staff invites``, ``/staff revoke NUMBER``, ``stf:rv:<id>``).
A removed account loses its powers on its very next message (the bus loads the active staff
row for every event), and is told so through the outbox with a request to reset its Telegram
command menu to the customer one.
"""

from __future__ import annotations

from typing import Final

from bot.core.errors import InvalidInput
from bot.core.graphemes import fit
from bot.core.ids import row_id
from bot.core.messages import Button, Reply
from bot.i18n import format_date
from handlers.branch_pages import STAFF, button_page, page_number
from handlers.context import Context
from handlers.router import Audience, Command, Router
from handlers.staff.claim import claim_handler
from handlers.staff.invite_list import list_invites, revoke
from handlers.staff.invites import branch_label, invite_staff, role_label
from handlers.staff.menu import (
    CUSTOMER_MENU,
    menu_meta,
    staff_keyword_handler,
    staff_menu_handler,
)
from handlers.staff.team_changes import (
    LastOwner,
    Remover,
    can_remove,
    can_see,
    is_last_owner,
    removable,
    remove_staff,
)

ACTIONS: Final = "stf"
LABEL_NAME_CHARS: Final = 20
#: bare words that open the staff menu (LINE users type without a slash); for customers they
#: are ordinary text for the shop's inbox
MENU_WORDS: Final = ("staff", "พนักงาน", "เมนูพนักงาน", "staffmenu")


def register(router: Router) -> None:
    """``/claim`` (anyone, slash only, hidden from menus: staff get it with their code),
    ``/staff`` (managers+), ``/staffmenu`` (staff), the menu keywords, and ``stf:`` buttons."""
    router.command(Command("claim", claim_handler(router), Audience.ANYONE))
    router.command(Command("staff", staff_command, Audience.MANAGER, describe="staff.cmd_staff"))
    router.command(
        Command(
            "staffmenu",
            staff_menu_handler(router),
            Audience.CASHIER,
            describe="staff.cmd_staffmenu",
        )
    )
    # a separate, hidden command owns the keywords, so that customers' text is not refused
    router.command(
        Command("staffword", staff_keyword_handler(router), Audience.ANYONE, keywords=MENU_WORDS)
    )
    router.action(ACTIONS, on_button, Audience.MANAGER)


async def staff_command(ctx: Context) -> list[Reply]:
    """``/staff`` (managers and owners): ``/staff`` or ``/staff list`` lists the team,
    ``/staff invite ROLE [BRANCH]`` makes an invite, ``/staff remove ID`` asks to remove."""
    words = ctx.args.split()
    sub = words[0].casefold() if words else "list"
    if sub in ("list", "รายชื่อ"):
        return await list_staff(ctx)
    if sub in ("invite", "เชิญ"):
        return await invite_staff(ctx)
    if sub in ("invites", "คำเชิญ"):
        return await list_invites(ctx)
    invite_id = row_id(words[1].removeprefix("#")) if len(words) == 2 else None
    if sub in ("revoke", "ยกเลิก") and invite_id is not None:
        return await revoke(ctx, invite_id)
    if sub in ("remove", "ลบ") and len(words) == 2:
        return await ask_remove(ctx, _staff_id(words[1]))
    return [ctx.reply("staff.usage")]


def _staff_id(text: str) -> int:
    digits = text.strip().removeprefix("#")
    staff_id = row_id(digits)
    if staff_id is None:
        raise InvalidInput("error.staff_id", given=text[:20])
    return staff_id


async def list_staff(ctx: Context, page: int = 0) -> list[Reply]:
    """The team the viewer sees, one line each, with a removal button for each they may remove
    (page ``page`` of them: :mod:`handlers.branch_pages`; ``stf:page:<n>``)."""
    viewer = ctx.staff
    assert viewer is not None
    team = [s for s in await ctx.uow.staff.active() if can_see(viewer, s)]
    lines = [ctx.t("staff.list_title", count=len(team))]
    buttons: list[Button] = []
    for member in team:
        branch = await ctx.uow.branches.get(member.branch_id) if member.branch_id else None
        since = format_date(member.created_at.astimezone(ctx.settings.tz).date(), ctx.locale)
        lines.append(
            ctx.t(
                "staff.list_line",
                id=member.id,
                name=member.name,
                role=role_label(ctx, member.role),
                branch=branch_label(ctx, branch),
                since=since,
            )
        )
        may_remove = member.id != viewer.id and can_remove(viewer, member)
        if may_remove:
            label = ctx.t("staff.remove_button", name=fit(member.name, LABEL_NAME_CHARS))
            buttons.append(Button(label=label, action=f"{ACTIONS}:rm:{member.id}"))
    shown = button_page(ctx, buttons, page, lambda n: f"{ACTIONS}:page:{n}", STAFF)
    lines.append(ctx.t("staff.list_footer"))
    if shown.note:
        lines.append(shown.note)
    return [Reply(text="\n".join(lines), buttons=shown.buttons)]


async def on_button(ctx: Context) -> list[Reply]:
    """``stf:rm:<id>`` asks, ``stf:rmok:<id>`` removes, ``stf:keep`` keeps, ``stf:rv:<id>``
    revokes an invite, ``stf:page:<n>`` / ``stf:ipage:<n>`` open a page of ``/staff`` /
    ``/staff invites`` (managers+)."""
    verb, _, rest = ctx.args.partition(":")
    if verb == "keep":
        return [ctx.reply("staff.kept")]
    if verb == "page":
        return await list_staff(ctx, page_number(rest))
    if verb == "ipage":
        return await list_invites(ctx, page_number(rest))
    staff_id = row_id(rest)
    if verb not in ("rm", "rmok", "rv") or staff_id is None:
        return [ctx.reply("error.button_expired")]
    if verb == "rv":
        return await revoke(ctx, staff_id)
    if verb == "rm":
        return await ask_remove(ctx, staff_id)
    return await remove(ctx, staff_id)


async def ask_remove(ctx: Context, staff_id: int) -> list[Reply]:
    assert ctx.staff is not None
    target = await removable(ctx.uow, ctx.staff, staff_id)
    if target is None:
        return [ctx.reply("staff.no_such_staff", id=staff_id)]
    if await is_last_owner(ctx.uow, target):
        return [ctx.reply("staff.last_owner")]
    yes = Button(label=ctx.t("staff.remove_yes"), action=f"{ACTIONS}:rmok:{target.id}")
    no = Button(label=ctx.t("staff.remove_no"), action=f"{ACTIONS}:keep")
    text = ctx.t("staff.remove_confirm", name=target.name, role=role_label(ctx, target.role))
    return [Reply(text=text, buttons=(yes, no))]


async def remove(ctx: Context, staff_id: int) -> list[Reply]:
    """The confirmed removal (:func:`handlers.staff.team_changes.remove_staff`)."""
    assert ctx.staff is not None
    by = Remover(ctx.staff, ctx.actor, ctx.channel, ctx.now, ctx.settings.locale)
    try:
        target = await remove_staff(ctx.uow, by, staff_id)
    except LastOwner:
        return [ctx.reply("staff.last_owner")]
    if target is None:
        return [ctx.reply("staff.no_such_staff", id=staff_id)]
    done = ctx.reply("staff.removed", name=target.name)
    if target.id == ctx.staff.id:  # removed themselves
        ctx.staff = None
        return [Reply(text=done.text, meta=menu_meta(CUSTOMER_MENU, ctx.locale))]
    return [done]
