"""``/staff invites`` and ``/staff revoke NUMBER``: the invite codes still open, and ending one.

An invite is open while unused and unexpired (7 days by default, single use). The owner sees
every open invite with who made it and may revoke any; a manager sees and revokes the ones they
made. Access given by a person ends with theirs: removing a staff member revokes the invites
they made (:func:`revoke_made_by`, in the same unit of work as the removal), so a code they
handed out, or that leaked, makes nobody staff afterwards.

Only a code's hash is stored, so the list shows invites by number, never their codes. A revoked
invite expires at the moment of revocation and is audited ``staff.invite_revoked``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from bot.core.errors import NotAllowed
from bot.core.ids import row_id
from bot.core.messages import Button, Reply
from bot.i18n import format_datetime
from handlers.branch_pages import INVITES, button_page
from handlers.context import Context
from handlers.staff.invites import CLI_ACTOR, branch_label, role_label
from storage.models import Staff, StaffInvite
from storage.uow import UnitOfWork

#: the button that revokes invite ``<id>``: ``stf:rv:<id>`` (``handlers.staff.team``)
REVOKE_ACTION: Final = "stf:rv:{id}"
#: the page button of the revoke buttons: ``stf:ipage:<n>``
PAGE_ACTION: Final = "stf:ipage:{page}"
REVOKED: Final = "staff.invite_revoked"


def _actor_of(staff: Staff) -> str:
    return f"staff:{staff.id}"  # as ``Context.actor`` writes it into ``created_by``


def may_revoke(viewer: Staff, invite: StaffInvite) -> bool:
    """The owner revokes any invite; a manager the ones they made."""
    return viewer.role == "owner" or invite.created_by == _actor_of(viewer)


async def _inviter(ctx: Context, created_by: str) -> str:
    if created_by == CLI_ACTOR:
        return ctx.t("staff.invite_by_cli")
    kind, _, number = created_by.partition(":")
    staff_id = row_id(number) if kind == "staff" else None
    staff = None if staff_id is None else await ctx.uow.staff.get(staff_id)
    return staff.name if staff is not None else created_by


async def list_invites(ctx: Context, page: int = 0) -> list[Reply]:
    """``/staff invites`` (managers and owners): the open invites they may revoke, with role,
    branch, who made each and until when it works, and a revoke button for each (page
    ``page`` of them: :mod:`handlers.branch_pages`)."""
    viewer = ctx.staff
    assert viewer is not None  # /staff is a manager command: the router checked
    invites = [i for i in await ctx.uow.staff.outstanding_invites(ctx.now) if may_revoke(viewer, i)]
    if not invites:
        return [ctx.reply("staff.invites_none")]
    lines = [ctx.t("staff.invites_title", count=len(invites))]
    buttons: list[Button] = []
    for invite in invites:
        branch = await ctx.uow.branches.get(invite.branch_id) if invite.branch_id else None
        lines.append(
            ctx.t(
                "staff.invites_line",
                id=invite.id,
                role=role_label(ctx, invite.role),
                branch=branch_label(ctx, branch),
                by=await _inviter(ctx, invite.created_by),
                expires=format_datetime(invite.expires_at, ctx.locale, ctx.settings.tz),
            )
        )
        label = ctx.t("staff.revoke_button", id=invite.id)
        buttons.append(Button(label=label, action=REVOKE_ACTION.format(id=invite.id)))
    shown = button_page(ctx, buttons, page, lambda n: PAGE_ACTION.format(page=n), INVITES)
    lines.append(ctx.t("staff.invites_footer"))
    if shown.note:
        lines.append(shown.note)
    return [Reply(text="\n".join(lines), buttons=shown.buttons)]


async def revoke(ctx: Context, invite_id: int) -> list[Reply]:
    """``/staff revoke NUMBER`` or its button: end one open invite."""
    assert ctx.staff is not None
    if not await revoke_invite(ctx.uow, ctx.staff, invite_id, ctx.actor, ctx.now, ctx.channel):
        return [ctx.reply("staff.no_such_invite", id=invite_id)]
    return [ctx.reply("staff.invite_revoked", id=invite_id)]


async def revoke_invite(
    uow: UnitOfWork,
    viewer: Staff,
    invite_id: int,
    actor: str,
    now: datetime,
    channel: str | None,
) -> bool:
    """End open invite ``invite_id`` (the rule of :func:`may_revoke`, re-checked whatever a
    button or form said: ``NotAllowed``); audited ``staff.invite_revoked``. False when no such
    invite is open (used, expired or revoked a moment ago)."""
    open_ = {i.id: i for i in await uow.staff.outstanding_invites(now)}
    invite = open_.get(invite_id)
    if invite is None:
        return False
    if not may_revoke(viewer, invite):
        raise NotAllowed()
    if not await uow.staff.revoke_invites(now, invite_id=invite_id):
        return False
    await uow.audit.record(actor, REVOKED, now, channel=channel, invite_id=invite_id)
    return True


async def revoke_made_by(
    uow: UnitOfWork, removed: Staff, actor: str, now: datetime, channel: str | None
) -> None:
    """End every open invite ``removed`` made (called with their removal); each is audited
    ``staff.invite_revoked`` with the reason ``inviter_removed``."""
    for invite_id in await uow.staff.revoke_invites(now, created_by=_actor_of(removed)):
        await uow.audit.record(
            actor,
            REVOKED,
            now,
            channel=channel,
            invite_id=invite_id,
            reason="inviter_removed",
        )
