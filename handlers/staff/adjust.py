"""``/adjust MEMBER ±N reason``: a manual points correction by a manager or owner.

MEMBER may contain spaces (``081 234 5678``), so the points are the first whole number after
it that leaves a MEMBER the shop knows: ``/adjust 081 234 5678 +50 birthday gift``. The reason
is required (it is the only explanation a later reader of the ledger has). A debit beyond the
balance is refused. Cashiers are refused by the router, and again by the operation.
"""

from __future__ import annotations

import re
from typing import Final

from bot.core.errors import InvalidInput, NotFound
from bot.core.messages import Reply
from bot.core.typed import GROUPED_WHOLE, MINUS_SIGNS
from bot.i18n import format_points, t
from handlers.context import Context
from handlers.notify import notify_member
from handlers.router import Audience, Command, Router
from handlers.staff.lookup import find_member, refuse_own_membership
from handlers.staff.sale_notices import member_label
from shop.inputs import thai_digits_to_ascii
from shop.ledger import adjust_points
from storage.models import Member

#: points as a number is typed anywhere (a thousands comma, a phone keyboard's minus)
_POINTS: Final = re.compile(rf"[+{re.escape(MINUS_SIGNS)}]?{GROUPED_WHOLE}")
#: past nine digits no correction is meant (and the ledger's sums stay far from overflowing)
_MAX_DIGITS: Final = 9


def _points(word: str) -> int | None:
    """The points ``word`` gives (+) or takes (-), or None when it is not a number of them."""
    if not _POINTS.fullmatch(word):
        return None
    digits = word.lstrip("+" + MINUS_SIGNS).replace(",", "")
    if len(digits) > _MAX_DIGITS:
        return None
    return -int(digits) if word[0] in MINUS_SIGNS else int(digits)


def register(router: Router) -> None:
    router.command(Command("adjust", adjust_command, Audience.MANAGER, describe="adjust.cmd"))


async def split_adjust_args(ctx: Context, text: str) -> tuple[Member, int, str]:
    """(member, points, reason) of ``/adjust`` arguments."""
    words = thai_digits_to_ascii(text).split()
    not_found: NotFound | None = None
    for index in range(1, len(words)):
        delta = _points(words[index])
        if delta is None:
            continue
        try:
            member = await find_member(ctx.uow, " ".join(words[:index]))
        except NotFound as error:
            not_found = not_found or error
            continue
        return member, delta, " ".join(words[index + 1 :])
    if not_found is not None:
        raise not_found
    raise InvalidInput("adjust.usage")


async def adjust_command(ctx: Context) -> list[Reply]:
    """``/adjust`` (managers and owners): write an ``adjust`` entry, audit it, tell the member."""
    assert ctx.staff is not None
    if not ctx.args.strip():
        return [ctx.reply("adjust.usage")]
    member, delta, reason = await split_adjust_args(ctx, ctx.args)
    own = ctx.identity_view.member_id
    refuse_own_membership(ctx.staff.role, own, member.id, "adjust.own_membership")
    result = await adjust_points(
        ctx.uow, member=member, delta=delta, reason=reason, staff=ctx.staff, now=ctx.now
    )
    await ctx.uow.audit.record(
        ctx.actor,
        "points.adjusted",
        ctx.now,
        member_id=member.id,
        channel=ctx.channel,
        points=delta,
        reason=result.entry.note,
        balance_before=result.balance_before,
        balance_after=result.balance,
    )
    key = "adjust.member_added" if delta > 0 else "adjust.member_removed"
    text = t(
        member.locale,
        key,
        points=format_points(abs(delta)),
        reason=result.entry.note or "",
        balance=format_points(result.balance),
    )
    await notify_member(ctx, member.id, [Reply(text=text)], key=f"adjust:{result.entry.id}")
    return [
        ctx.reply(
            "adjust.done",
            member=member_label(member),
            points=f"{delta:+,}",
            before=format_points(result.balance_before),
            balance=format_points(result.balance),
        )
    ]
