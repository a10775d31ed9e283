"""``/claim CODE``: a one-time invite turns this chat account into a staff account.

Staff identity is the platform user id (``channel``, ``user_id``), never a display name, so a
renamed account stays the same staff member. Guessing is throttled per chat account: after
:data:`FAILURE_LIMIT` failed claims within :data:`WINDOW`, further claims are refused until the
failures age out of the window. Failures are counted from the append-only audit log
(``staff.claim_failed``, actor = the chat account), so no extra table is needed and a refused
guess leaves a trace the owner can see; ``shop.throttle`` takes one attempt at a time per
account, so codes sent at once cannot slip past the count.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Final

from bot.core.messages import Reply
from handlers.context import Context
from handlers.router import Handler, Router
from handlers.staff.invites import branch_label, normalise_invite_code, role_label
from handlers.staff.menu import staff_menu_reply
from handlers.staff.setup import is_empty_shop, start_setup
from shop.throttle import Throttle, locked_until

FAILURE_LIMIT: Final = 5
WINDOW: Final = timedelta(minutes=15)
FAILED: Final = "staff.claim_failed"
GUESSING: Final = Throttle((FAILED,), FAILURE_LIMIT, WINDOW)


def claim_handler(router: Router) -> Handler:
    return lambda ctx: claim(ctx, router)


async def claim(ctx: Context, router: Router) -> list[Reply]:
    """Anyone. A valid, unused, unexpired code is used up (a conditional update: two people
    racing for one code cannot both win) and makes this chat account active staff with the
    invite's role and branch; audit ``staff.claimed``; the reply carries the staff menu.

    Every wrong, used or expired code gets the same answer (telling them apart would help a
    guesser) and an audit row that counts towards the throttle. Someone who is already staff
    is told so and the code stays unused: changing a role is the owner's decision (remove,
    then invite again), not a side effect of a forwarded code.
    """
    typed = ctx.args.strip()
    if not typed:
        return [ctx.reply("staff.claim_usage")]
    who = str(ctx.inbound.identity)
    uow, now = ctx.uow, ctx.now
    if await locked_until(uow, GUESSING, who, now) is not None:
        return [ctx.reply("staff.claim_locked", minutes=int(WINDOW.total_seconds() // 60))]
    if ctx.staff is not None:
        return [ctx.reply("staff.already_staff", role=role_label(ctx, ctx.staff.role))]
    code = normalise_invite_code(typed)
    invite = await uow.staff.use_invite(code, now) if code is not None else None
    if invite is None:
        await uow.audit.record(who, FAILED, now, channel=ctx.channel)
        return [ctx.reply("staff.claim_invalid")]

    name = (ctx.member.name if ctx.member is not None else None) or ctx.identity.display_name
    staff = await uow.staff.add(
        ctx.channel,
        ctx.inbound.identity.user_id,
        (name or who)[:200],
        invite.role,
        invite.branch_id,
        now,
    )
    invite.used_by_staff_id = staff.id
    ctx.staff = staff
    branch = await uow.branches.get(invite.branch_id) if invite.branch_id else None
    await uow.audit.record(
        ctx.actor,
        "staff.claimed",
        now,
        member_id=ctx.member.id if ctx.member is not None else None,
        channel=ctx.channel,
        invite_id=invite.id,
        staff_id=staff.id,
        role=invite.role,
        branch=branch.code if branch is not None else None,
        invited_by=invite.created_by,
    )
    welcome = ctx.reply(
        "staff.claimed",
        name=staff.name,
        role=role_label(ctx, invite.role),
        branch=branch_label(ctx, branch),
    )
    replies = [welcome, staff_menu_reply(ctx, router, invite.role)]
    if invite.role == "owner" and await is_empty_shop(ctx):
        replies += await start_setup(ctx)  # nothing can be sold before the shop has a branch
    return replies
