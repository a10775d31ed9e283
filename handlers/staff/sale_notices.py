"""What follows a recorded or voided sale: the audit rows, a referral bonus due at a first
purchase, the member's receipt (in the member's language), the tier-up message, and the staff
member's one-line confirmation.

Shared by ``/sale`` and the owner's approval of an over-cap sale, so both finish a sale the
same way. Messages to the member and to a particular staff member go through the outbox, keyed
by their cause, so a handler that runs again for the same sale queues nothing new.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from bot.core.keys import staff_message_key
from bot.core.messages import Reply
from bot.core.wire import replies_to_payload
from bot.i18n import format_baht, format_points, t
from handlers.context import Context
from handlers.customer.common import branch_name
from handlers.notify import notify_member, staff_locale
from handlers.router import ROLES
from shop.ledger import SaleResult, VoidResult
from shop.referral import pay_referral_if_first_purchase
from storage.models import Branch, Member
from wording.loyalty import tier_name
from wording.referral import referral_notices


def member_label(member: Member) -> str:
    return f"{member.name or '-'} ({member.member_code})"


def _multiplier(value: Decimal) -> str:
    return f"{value.normalize():f}"


async def finish_sale(
    ctx: Context, result: SaleResult, member: Member, branch: Branch, **audit: object
) -> Reply:
    """Audit a new sale, pay the referral bonus if this was the referred member's first
    purchase, queue the member's receipt (and tier-up message), and return the staff
    confirmation. A duplicate receipt changes nothing and only says so."""
    sale = result.sale
    if result.duplicate:
        return ctx.reply(
            "sale.duplicate",
            receipt=sale.receipt_no,
            member=member_label(member),
            amount=format_baht(sale.amount, ctx.locale),
            points=format_points(result.points),
        )
    await ctx.uow.audit.record(
        ctx.actor,
        "sale.recorded",
        ctx.now,
        member_id=member.id,
        channel=ctx.channel,
        receipt=sale.receipt_no,
        amount=str(sale.amount),
        points=result.points,
        balance_before=result.balance_before,
        balance_after=result.balance,
        branch=branch.code,
        soon=True,
        **audit,
    )
    await pay_referral_if_first_purchase(
        ctx.uow,
        member,
        sale,
        ctx.now,
        notices=referral_notices,
        actor=ctx.actor,
        channel=ctx.channel,
        tz=ctx.settings.tz,
    )
    await _send_receipt(ctx, result, member, branch)
    return _confirmation(ctx, result, member, branch)


async def _send_receipt(ctx: Context, result: SaleResult, member: Member, branch: Branch) -> None:
    """Queue the member's receipt and, when the sale moved them up, the tier-up message."""
    sale, locale = result.sale, member.locale
    receipt = t(
        locale,
        "sale.receipt",
        branch=branch_name(branch, locale),
        amount=format_baht(sale.amount, locale),
        points=format_points(result.points),
        balance=format_points(result.balance),
        receipt=sale.receipt_no,
    )
    # the sale was written just now: its keys are new, and the answer is not needed
    receipt_key = f"receipt:{sale.id}"
    await notify_member(ctx, member.id, [Reply(text=receipt)], receipt_key, tell_apart=False)
    if result.tier_up:
        tier = result.tier
        text = t(
            locale,
            "tier.up",
            tier=tier_name(locale, tier),
            multiplier=_multiplier(tier.multiplier),
        )
        # once a shop day per tier: two counters' sales that cross it at the same moment (on
        # PostgreSQL each reads the spend before the other's) tell the member once; so does a
        # sale voided and made again
        day = ctx.now.astimezone(ctx.settings.tz).date().isoformat()
        key = f"tierup:{member.id}:{tier.name}:{day}"
        await notify_member(ctx, member.id, [Reply(text=text)], key, tell_apart=False)


def _confirmation(ctx: Context, result: SaleResult, member: Member, branch: Branch) -> Reply:
    """The staff member's line for a recorded sale (with the tier-up, if any)."""
    sale = result.sale
    line = ctx.t(
        "sale.recorded",
        member=member_label(member),
        amount=format_baht(sale.amount, ctx.locale),
        branch=branch_name(branch, ctx.locale),
        points=format_points(result.points),
        balance=format_points(result.balance),
        receipt=sale.receipt_no,
    )
    if result.tier_up:
        line += "\n" + ctx.t("tier.up_staff", tier=tier_name(ctx.locale, result.tier))
    return Reply(text=line)


async def announce_void(ctx: Context, result: VoidResult, member: Member | None) -> Reply:
    """Audit a void, tell the member, and return the staff confirmation."""
    sale = result.sale
    branch = await ctx.uow.branches.get(sale.branch_id)
    await ctx.uow.audit.record(
        ctx.actor,
        "sale.voided",
        ctx.now,
        member_id=sale.member_id,
        channel=ctx.channel,
        receipt=sale.receipt_no,
        amount=str(sale.amount),
        points=-result.points,
        unrecovered=result.unrecovered,
        expired=result.expired,
        balance_before=result.balance_before,
        balance_after=result.balance,
        branch=branch.code if branch else None,
    )
    if member is not None and member.erased_at is None:
        locale = member.locale
        text = t(
            locale,
            "sale.void_member",
            receipt=sale.receipt_no,
            amount=format_baht(sale.amount, locale),
            branch=branch_name(branch, locale),
            points=format_points(result.points),
            balance=format_points(result.balance),
        )
        await notify_member(ctx, member.id, [Reply(text=text)], key=f"void:{sale.id}")
    line = ctx.t(
        "sale.voided",
        receipt=sale.receipt_no,
        amount=format_baht(sale.amount, ctx.locale),
        points=format_points(result.points),
        balance=format_points(result.balance),
    )
    if result.unrecovered:
        line += "\n" + ctx.t("sale.void_unrecovered", points=format_points(result.unrecovered))
    if result.expired:
        line += "\n" + ctx.t("sale.void_expired", points=format_points(result.expired))
    return Reply(text=line)


async def notify_staff_member(
    ctx: Context, staff_id: int, replies_for: Callable[[str], list[Reply]], key: str
) -> bool:
    """Queue a message for one staff member (in their language), keyed ``key`` as a staff
    message (:func:`bot.core.keys.staff_message_key`); False if unreachable."""
    for recipient in await ctx.uow.outbox.staff_recipients(ROLES):
        if recipient.staff_id != staff_id:
            continue
        if not recipient.reachable:
            return False
        payload = replies_to_payload(replies_for(staff_locale(ctx, recipient)))
        keyed = staff_message_key(key, staff_id)
        await ctx.uow.outbox.enqueue(keyed, recipient.channel, recipient.user_id, payload, ctx.now)
        return True
    return False
