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

from bot.core.errors import InvalidInput, NotAllowed
from bot.core.messages import Button, Reply
from bot.core.wire import replies_to_payload
from bot.i18n import format_date, supported_locale, t
from handlers.context import Context
from handlers.router import Audience, Command, Router
from handlers.staff.claim import claim_handler
from handlers.staff.invite_list import list_invites, revoke, revoke_made_by
from handlers.staff.invites import branch_label, invite_staff, role_label
from handlers.staff.menu import (
    CUSTOMER_MENU,
    MAX_MENU_BUTTONS,
    menu_meta,
    staff_keyword_handler,
    staff_menu_handler,
)
from storage.models import Staff

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


def can_see(viewer: Staff, target: Staff) -> bool:
    if viewer.role == "owner":
        return True
    return viewer.role == "manager" and (
        viewer.branch_id is None or target.branch_id == viewer.branch_id
    )


def can_remove(viewer: Staff, target: Staff) -> bool:
    if viewer.role == "owner":
        return True
    return viewer.role == "manager" and target.role == "cashier" and can_see(viewer, target)


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
    if sub in ("revoke", "ยกเลิก") and len(words) == 2 and words[1].removeprefix("#").isdigit():
        return await revoke(ctx, int(words[1].removeprefix("#")[:12]))
    if sub in ("remove", "ลบ") and len(words) == 2:
        return await ask_remove(ctx, _staff_id(words[1]))
    return [ctx.reply("staff.usage")]


def _staff_id(text: str) -> int:
    digits = text.strip().removeprefix("#")
    if not digits.isdigit() or len(digits) > 12:
        raise InvalidInput("error.staff_id", given=text[:20])
    return int(digits)


async def list_staff(ctx: Context) -> list[Reply]:
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
        removable = member.id != viewer.id and can_remove(viewer, member)
        if removable and len(buttons) < MAX_MENU_BUTTONS:
            label = ctx.t("staff.remove_button", name=member.name[:LABEL_NAME_CHARS])
            buttons.append(Button(label=label, action=f"{ACTIONS}:rm:{member.id}"))
    lines.append(ctx.t("staff.list_footer"))
    return [Reply(text="\n".join(lines), buttons=tuple(buttons))]


async def on_button(ctx: Context) -> list[Reply]:
    """``stf:rm:<id>`` asks, ``stf:rmok:<id>`` removes, ``stf:keep`` keeps, ``stf:rv:<id>``
    revokes an invite (managers+)."""
    verb, _, rest = ctx.args.partition(":")
    if verb == "keep":
        return [ctx.reply("staff.kept")]
    if verb not in ("rm", "rmok", "rv") or not rest.isdigit():
        return [ctx.reply("error.button_expired")]
    if verb == "rv":
        return await revoke(ctx, int(rest))
    if verb == "rm":
        return await ask_remove(ctx, int(rest))
    return await remove(ctx, int(rest))


async def _target(ctx: Context, staff_id: int) -> Staff | None:
    """The active staff account ``staff_id`` if the person asking may remove it; raises
    NotAllowed for one they may not touch (also one they cannot see: no probing by id)."""
    viewer = ctx.staff
    assert viewer is not None
    target = await ctx.uow.staff.get(staff_id)
    if target is None or not target.active:
        return None
    if not can_remove(viewer, target):
        raise NotAllowed()
    return target


async def _is_last_owner(ctx: Context, target: Staff) -> bool:
    if target.role != "owner":
        return False
    owners = [s for s in await ctx.uow.staff.active() if s.role == "owner"]
    return len(owners) <= 1


async def ask_remove(ctx: Context, staff_id: int) -> list[Reply]:
    target = await _target(ctx, staff_id)
    if target is None:
        return [ctx.reply("staff.no_such_staff", id=staff_id)]
    if await _is_last_owner(ctx, target):
        return [ctx.reply("staff.last_owner")]
    yes = Button(label=ctx.t("staff.remove_yes"), action=f"{ACTIONS}:rmok:{target.id}")
    no = Button(label=ctx.t("staff.remove_no"), action=f"{ACTIONS}:keep")
    text = ctx.t("staff.remove_confirm", name=target.name, role=role_label(ctx, target.role))
    return [Reply(text=text, buttons=(yes, no))]


async def remove(ctx: Context, staff_id: int) -> list[Reply]:
    """Deactivate the account (never delete: sales and audit rows keep pointing at it), audit
    ``staff.removed``, revoke the invites they made, and tell the removed person. A second
    press finds it already gone; an owner removed a moment ago removes nobody."""
    assert ctx.staff is not None
    owners = {owner.id for owner in await ctx.uow.staff.lock_owners()}  # held until the commit
    if ctx.staff.role == "owner" and ctx.staff.id not in owners:
        raise NotAllowed()  # removed by another owner while this press waited for the lock
    target = await _target(ctx, staff_id)
    if target is None:
        return [ctx.reply("staff.no_such_staff", id=staff_id)]
    if target.role == "owner" and owners <= {target.id}:
        return [ctx.reply("staff.last_owner")]
    await ctx.uow.staff.deactivate(target)
    await revoke_made_by(ctx, target)
    await ctx.uow.audit.record(
        ctx.actor,
        "staff.removed",
        ctx.now,
        channel=ctx.channel,
        staff_id=target.id,
        role=target.role,
        branch_id=target.branch_id,
    )
    done = ctx.reply("staff.removed", name=target.name)
    if ctx.staff is not None and target.id == ctx.staff.id:  # removed themselves
        ctx.staff = None
        return [Reply(text=done.text, meta=menu_meta(CUSTOMER_MENU, ctx.locale))]
    await _tell_removed(ctx, target)
    return [done]


async def _tell_removed(ctx: Context, target: Staff) -> None:
    identity = await ctx.uow.identities.get(target.channel, target.user_id)
    if identity is not None and not identity.reachable:
        return
    member = None
    if identity is not None and identity.member_id is not None:
        member = await ctx.uow.members.get(identity.member_id)
    if member is not None and member.erased_at is None:
        locale = member.locale
    else:
        chosen = identity.chosen_locale if identity is not None else None
        hint = identity.language_code if identity is not None else None
        locale = chosen or supported_locale(hint) or ctx.settings.locale
    # in the removed person's language, not the remover's
    reply = Reply(text=t(locale, "staff.you_were_removed"), meta=menu_meta(CUSTOMER_MENU, locale))
    await ctx.uow.outbox.enqueue(
        f"staff:{target.id}:removed:{ctx.now.isoformat()}",
        target.channel,
        target.user_id,
        replies_to_payload([reply]),
        ctx.now,
    )
