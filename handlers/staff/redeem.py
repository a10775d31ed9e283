"""/redeem CODE [branch=CODE]: a cashier uses a member's coupon at the counter.

The coupon is used at the cashier's own branch (staff without a branch name one with
``branch=``: they are asked which when the shop has more than one open branch, as ``/sale``
asks; the shop's only branch is taken). The cashier is told what to hand over, the
member is told their coupon was used, and the audit log gets ``coupon.redeemed``. Unknown codes
are guesses as far as the shop can tell: each one is audited as ``coupon.redeem_failed``, and
after 10 of them within 10 minutes the staff account may not try for 10 minutes — counted from
the audit log, so no extra table and nothing a command can reset (``shop.throttle``, one
attempt at a time per account).
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Final

from bot.core.errors import DomainError, InvalidInput, NotAllowed, NotFound
from bot.core.keys import CommandAction
from bot.core.messages import Button, Reply
from bot.i18n import format_date, format_datetime, t
from handlers.context import Context
from handlers.notify import notify_member
from handlers.router import Audience, Command, Router
from handlers.staff.options import branch_code_named, split_options
from shop.coupons import (
    CouponAlreadyUsed,
    CouponExpired,
    CouponNotFound,
    CouponOutsideWindow,
    coupon_title,
    display_code,
    last_valid_day,
    redeem_coupon,
)
from shop.throttle import Throttle, locked_until
from storage.models import Branch, Coupon
from wording.coupons import describe_conditions

FLOW: Final = "rd"
FAILED: Final = "coupon.redeem_failed"
MAX_FAILURES: Final = 10
WINDOW: Final = timedelta(minutes=10)
LOCKOUT: Final = timedelta(minutes=10)
GUESSING: Final = Throttle((FAILED,), MAX_FAILURES, WINDOW, LOCKOUT)


def redeem_button(label: str, code: str) -> Button:
    """A button that runs ``/redeem CODE`` (for staff views listing a member's coupons)."""
    return Button(label, CommandAction("redeem", code).format())


async def redeem(ctx: Context) -> list[Reply]:
    """/redeem CODE [branch=CODE] (cashier and up); without a code, asks for it."""
    code, branch_code = _split_args(ctx.args)
    if not code:
        await _branch(ctx, branch_code)  # which branch is asked before the code
        ctx.begin(FLOW, "code", {"branch": branch_code})
        return [ctx.reply("redeem.ask_code")]
    return await _redeem(ctx, code, branch_code)


async def redeem_step(ctx: Context) -> list[Reply]:
    """The code typed after a bare /redeem (cashier and up, checked by the router)."""
    assert ctx.state is not None
    branch_code = ctx.state.data.get("branch")
    ctx.finish()
    code, typed_branch = _split_args(ctx.inbound.text)
    if not code:
        return [ctx.reply("redeem.ask_code")]
    return await _redeem(ctx, code, typed_branch or branch_code)


def _split_args(text: str) -> tuple[str, str | None]:
    """The code (it may be typed in groups with spaces) and the ``branch=`` value, if any."""
    words, options = split_options(text, ("branch",), "redeem.usage")
    return " ".join(words), options.get("branch")


async def _branch(ctx: Context, branch_code: str | None) -> Branch | None:
    staff = ctx.staff
    assert staff is not None
    branch_code = await branch_code_named(ctx.uow, branch_code)
    named = await ctx.uow.branches.by_code(branch_code) if branch_code else None
    if branch_code and named is None:
        raise NotFound("redeem.unknown_branch", code=branch_code[:32])
    if staff.branch_id is not None:
        if named is not None and named.id != staff.branch_id:
            raise NotAllowed("redeem.other_branch")
        named = await ctx.uow.branches.get(staff.branch_id)
    if named is not None and not named.active:
        raise NotAllowed("branches.closed_redeem", branch=named.code)
    if named is not None:
        return named
    branches = await ctx.uow.branches.active()
    if len(branches) > 1:  # as /sale asks: a redemption at no branch is in no branch's numbers
        raise InvalidInput("sale.branch_required", branches=", ".join(b.code for b in branches))
    return branches[0] if branches else None


async def _redeem(ctx: Context, code: str, branch_code: str | None) -> list[Reply]:
    until = await locked_until(ctx.uow, GUESSING, ctx.actor, ctx.now)
    if until is not None:
        minutes = max(1, math.ceil((until - ctx.now).total_seconds() / 60))
        return [ctx.reply("redeem.throttled", minutes=minutes)]
    branch = await _branch(ctx, branch_code)
    try:
        async with ctx.uow.savepoint():
            coupon = await redeem_coupon(ctx.uow, code, ctx.staff, branch, ctx.now, ctx.settings.tz)
    except CouponNotFound:
        await ctx.uow.audit.record(ctx.actor, FAILED, ctx.now, channel=ctx.channel)
        return [ctx.reply("redeem.not_found")]
    except CouponAlreadyUsed as used:
        return [await _already_used(ctx, used.coupon)]
    except CouponOutsideWindow as outside:
        when = describe_conditions(outside.coupon.conditions, ctx.locale)
        return [ctx.reply("tracking.outside_window", when=when)]
    except CouponExpired as expired:
        day = last_valid_day(expired.coupon, ctx.settings.tz)
        return [ctx.reply("redeem.expired", date=format_date(day, ctx.locale))]
    except DomainError as error:
        return [ctx.reply(error.key, **error.params)]
    return await _redeemed(ctx, coupon, branch)


async def _already_used(ctx: Context, coupon: Coupon) -> Reply:
    branch_id = coupon.redeemed_branch_id
    where = await ctx.uow.branches.get(branch_id) if branch_id is not None else None
    assert coupon.redeemed_at is not None
    return ctx.reply(
        "redeem.already_used",
        when=format_datetime(coupon.redeemed_at, ctx.locale, ctx.settings.tz),
        branch=_branch_name(where, ctx.locale),
    )


def _branch_name(branch: Branch | None, locale: str) -> str:
    if branch is None:
        return "-"
    return branch.name_th if locale == "th" else branch.name_en


async def _redeemed(ctx: Context, coupon: Coupon, branch: Branch | None) -> list[Reply]:
    member = await ctx.uow.members.get(coupon.member_id)
    await ctx.uow.audit.record(
        ctx.actor,
        "coupon.redeemed",
        ctx.now,
        member_id=coupon.member_id,
        channel=ctx.channel,
        coupon_id=coupon.id,
        reward_id=coupon.reward_id,
        campaign_id=coupon.campaign_id,
        points_spent=coupon.points_spent,
        branch=branch.code if branch else None,
    )
    if member is not None and member.erased_at is None:
        locale = member.locale
        notice = t(
            locale,
            "redeem.member_notice",
            title=coupon_title(coupon, locale),
            code=display_code(coupon.code),
            branch=_branch_name(branch, locale),
            when=format_datetime(ctx.now, locale, ctx.settings.tz),
        )
        await notify_member(ctx, member.id, [Reply(text=notice)], f"redeemed:{coupon.id}")
    name = (member.name if member is not None else None) or "-"
    code = member.member_code if member is not None else "-"
    return [
        ctx.reply(
            "redeem.done",
            title=coupon_title(coupon, ctx.locale),
            name=name,
            member=code,
            branch=_branch_name(branch, ctx.locale),
        )
    ]


def register(router: Router) -> None:
    """``/redeem`` (cashier and up; slash only, so a customer's text never hits a refusal)."""
    router.command(Command("redeem", redeem, Audience.CASHIER, describe="redeem.cmd_redeem"))
    router.flow(FLOW, redeem_step, Audience.CASHIER)
