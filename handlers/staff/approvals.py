"""The per-cashier daily cap and the owner's approval of a sale above it.

A cashier may record ``cashier_daily_cap`` baht (default 20,000) of non-voided sales per shop
day; a sale that would pass it is not recorded. Instead a :class:`SaleApproval` is stored and
every owner (of that branch, or of every branch) gets the sale with [approve] [decline] buttons
(``apv:y:<id>`` / ``apv:n:<id>``). Managers and owners have no cap.

Only owners may press them (the router checks the role for every press, whatever the button
said), and nobody may decide their own request. The decision is a conditional update of the
pending row, so a double-tapped approve records the sale once. An approved sale is recorded as
the cashier's, at the requested branch, with the original receipt and time. Approve pressed
after the member erased their data closes the request as declined, and says why.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any, Final
from zoneinfo import ZoneInfo

from bot.core.errors import NotAllowed, NotFound
from bot.core.ids import row_id
from bot.core.messages import Button, Reply
from bot.i18n import format_baht, t
from handlers.context import Context
from handlers.customer.common import branch_name
from handlers.notify import notify_staff
from handlers.router import Audience, Router
from handlers.staff.lookup import refuse_own_membership
from handlers.staff.sale_notices import finish_sale, member_label, notify_staff_member
from shop.ledger import is_manager, record_sale
from shop.loyalty import LoyaltyRules, load_rules
from storage.models import Branch, Member, SaleApproval
from storage.repositories.arrival import StaffLike
from storage.uow import UnitOfWork

ACTIONS: Final = "apv"


def register(router: Router) -> None:
    router.action(ACTIONS, decide, Audience.OWNER)


def shop_day(now: datetime, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The shop-time calendar day around ``now``, as UTC bounds [start, end)."""
    local = now.astimezone(tz).date()
    start = datetime.combine(local, time(0), tzinfo=tz)
    end = datetime.combine(local + timedelta(days=1), time(0), tzinfo=tz)
    return start.astimezone(now.tzinfo), end.astimezone(now.tzinfo)


async def recorded_today(uow: UnitOfWork, staff_id: int, now: datetime, tz: ZoneInfo) -> Decimal:
    """Non-voided sales ``staff_id`` recorded during the current shop day, in baht."""
    start, end = shop_day(now, tz)
    return await uow.approvals.recorded_by(staff_id, start, end)


async def over_daily_cap(
    uow: UnitOfWork,
    *,
    staff: StaffLike,
    amount: Decimal,
    now: datetime,
    rules: LoyaltyRules,
    tz: ZoneInfo,
) -> Decimal | None:
    """What ``staff`` already recorded today when ``amount`` more would pass the daily cap;
    None when the sale may go ahead. Holds the cashier until the unit of work ends, so the
    caller's sale or approval request is one step with this check (parallel sales of one
    cashier cannot all pass the cap)."""
    if is_manager(staff):
        return None
    await uow.approvals.hold_cashier(staff.id)
    today = await recorded_today(uow, staff.id, now, tz)
    return today if today + amount > rules.cashier_daily_cap else None


async def pending_by_receipt(
    uow: UnitOfWork, receipt_no: str, branch_id: int
) -> SaleApproval | None:
    """The approval request already stored for ``receipt_no`` at the branch (of any status),
    if any: another branch's till prints its own numbers."""
    return await uow.approvals.by_receipt(receipt_no, branch_id)


async def request_approval(
    ctx: Context,
    *,
    member: Member,
    amount: Decimal,
    branch: Branch,
    receipt_no: str,
    categories: Sequence[str],
    today: Decimal,
    rules: LoyaltyRules,
) -> list[Reply]:
    """Store the over-cap sale as pending and ask the owners; returns the cashier's reply."""
    assert ctx.staff is not None
    approval = await ctx.uow.approvals.add(
        SaleApproval(
            requested_by_staff_id=ctx.staff.id,
            member_id=member.id,
            branch_id=branch.id,
            receipt_no=receipt_no,
            amount=amount,
            categories=",".join(categories)[:200] or None,
            status="pending",
            created_at=ctx.now,
        )
    )
    asked = await _ask_owners(ctx, approval, member, branch, today, rules)
    await ctx.uow.audit.record(
        ctx.actor,
        "sale.approval_requested",
        ctx.now,
        member_id=member.id,
        channel=ctx.channel,
        approval=approval.id,
        receipt=receipt_no,
        amount=str(amount),
        today=str(today),
        branch=branch.code,
    )
    key = "approval.requested" if asked else "approval.requested_no_owner"
    return [ctx.reply(key, amount=format_baht(amount, ctx.locale), receipt=receipt_no)]


async def _ask_owners(
    ctx: Context,
    approval: SaleApproval,
    member: Member,
    branch: Branch,
    today: Decimal,
    rules: LoyaltyRules,
) -> int:
    """Queue the request with its [approve] [decline] buttons to the branch's owners; how
    many were asked (0 when no owner can be reached)."""
    assert ctx.staff is not None
    cashier = ctx.staff

    def ask(locale: str) -> list[Reply]:
        text = t(
            locale,
            "approval.ask",
            cashier=cashier.name,
            member=member_label(member),
            amount=format_baht(approval.amount, locale),
            branch=branch_name(branch, locale),
            receipt=approval.receipt_no,
            today=format_baht(today, locale),
            cap=format_baht(rules.cashier_daily_cap, locale),
        )
        buttons = (
            Button(t(locale, "approval.approve"), f"{ACTIONS}:y:{approval.id}"),
            Button(t(locale, "approval.decline"), f"{ACTIONS}:n:{approval.id}"),
        )
        return [Reply(text=text, buttons=buttons)]

    return await notify_staff(
        ctx, ask, f"approval:{approval.id}:ask", roles={"owner"}, branch_id=branch.id
    )


async def decide(ctx: Context) -> list[Reply]:
    """``apv:y:<id>`` approves, ``apv:n:<id>`` declines a pending over-cap sale (owners)."""
    assert ctx.staff is not None
    choice, _, raw_id = ctx.args.partition(":")
    approval_id = row_id(raw_id)
    if choice not in ("y", "n") or approval_id is None:
        return [ctx.reply("error.button_expired")]
    approval = await ctx.uow.approvals.get(approval_id)
    if approval is None:
        raise NotFound("approval.not_found")
    if approval.requested_by_staff_id == ctx.staff.id:
        raise NotAllowed("approval.own_sale")
    if ctx.staff.branch_id is not None and ctx.staff.branch_id != approval.branch_id:
        raise NotAllowed("approval.other_branch")
    if choice == "y":
        await _refuse_requesters_own(ctx, approval)
        if await _member_erased(ctx.uow, approval):
            return await _closed_member_erased(ctx, approval)
    status = "approved" if choice == "y" else "declined"
    if not await ctx.uow.approvals.decide(approval, status, ctx.staff.id, ctx.now):
        return [ctx.reply("approval.already_decided", status=ctx.t(f"approval.{approval.status}"))]
    if status == "declined":
        return await _declined(ctx, approval)
    return await _approved(ctx, approval)


async def _refuse_requesters_own(ctx: Context, approval: SaleApproval) -> None:
    """A request for the requester's own membership (their account linked to it after they
    asked) is not approved, as :func:`handlers.staff.sales.sale_command` refuses it; declining
    it still works."""
    requester = await ctx.uow.staff.get(approval.requested_by_staff_id)
    if requester is None:
        return
    account = await ctx.uow.identities.get(requester.channel, requester.user_id)
    own = account.member_id if account is not None else None
    refuse_own_membership(requester.role, own, approval.member_id, "approval.own_membership")


async def _approved(ctx: Context, approval: SaleApproval) -> list[Reply]:
    cashier = await ctx.uow.staff.get(approval.requested_by_staff_id)
    member = await ctx.uow.members.get(approval.member_id)
    branch = await ctx.uow.branches.get(approval.branch_id)
    if cashier is None or member is None or member.erased_at is not None or branch is None:
        raise NotFound("approval.not_found")
    result = await record_sale(
        ctx.uow,
        member=member,
        amount=approval.amount,
        branch=branch,
        receipt_no=approval.receipt_no,
        categories=(approval.categories or "").split(",") if approval.categories else (),
        staff=cashier,
        now=ctx.now,
        rules=await load_rules(ctx.uow),
        occurred_at=approval.created_at,
    )
    approval.sale_id = result.sale.id
    confirmation = await finish_sale(
        ctx, result, member, branch, approval=approval.id, recorded_by=cashier.id
    )

    def told(locale: str) -> list[Reply]:
        text = t(
            locale,
            "approval.approved_cashier",
            receipt=approval.receipt_no,
            amount=format_baht(approval.amount, locale),
            member=member_label(member),
        )
        return [Reply(text=text)]

    await notify_staff_member(ctx, cashier.id, told, f"approval:{approval.id}:done")
    return [ctx.reply("approval.approved_owner"), confirmation]


async def _member_erased(uow: UnitOfWork, approval: SaleApproval) -> bool:
    member = await uow.members.get(approval.member_id)
    return member is None or member.erased_at is not None


async def _closed_member_erased(ctx: Context, approval: SaleApproval) -> list[Reply]:
    """Approve pressed after the member erased their data: nothing to record a sale for, so
    the request is closed as declined (not left pending for ever) and both are told why."""
    assert ctx.staff is not None
    if not await ctx.uow.approvals.decide(approval, "declined", ctx.staff.id, ctx.now):
        return [ctx.reply("approval.already_decided", status=ctx.t(f"approval.{approval.status}"))]
    await _tell_declined(ctx, approval, "approval.member_erased_cashier", "member_erased")
    return [ctx.reply("approval.member_erased_owner", receipt=approval.receipt_no)]


async def _declined(ctx: Context, approval: SaleApproval) -> list[Reply]:
    await _tell_declined(ctx, approval, "approval.declined_cashier", None)
    return [ctx.reply("approval.declined_owner", receipt=approval.receipt_no)]


async def _tell_declined(
    ctx: Context, approval: SaleApproval, cashier_key: str, reason: str | None
) -> None:
    """Audit ``sale.declined`` (with ``reason`` when it was not the owner's choice) and tell
    the cashier who asked with ``cashier_key``."""
    details: dict[str, Any] = {
        "approval": approval.id,
        "receipt": approval.receipt_no,
        "amount": str(approval.amount),
    }
    if reason is not None:
        details["reason"] = reason
    await ctx.uow.audit.record(
        ctx.actor,
        "sale.declined",
        ctx.now,
        member_id=approval.member_id,
        channel=ctx.channel,
        **details,
    )

    def told(locale: str) -> list[Reply]:
        text = t(
            locale,
            cashier_key,
            receipt=approval.receipt_no,
            amount=format_baht(approval.amount, locale),
        )
        return [Reply(text=text)]

    await notify_staff_member(
        ctx, approval.requested_by_staff_id, told, f"approval:{approval.id}:done"
    )
