"""Counter operations on sales and points, channel-neutral: what /sale, /void, /adjust, the
owner's approval buttons, the sales import and the expiry job call.

Every operation works inside the caller's unit of work and never commits; a DomainError leaves
the caller to roll back. Points only move through ``uow.points.append`` (the append-only ledger
that keeps ``members.points_balance`` in step).

Rules decided here:

- A sale is idempotent on its receipt number at its branch (each branch's till numbers its own
  receipts: Sukhumvit's R-100 is another sale than Asoke's): the same receipt, branch, amount
  and member again returns the first result (``duplicate=True``); the same receipt at the same
  branch with another amount or member, or a receipt whose sale was voided, is a
  :class:`Conflict`. Concurrent attempts resolve through the unique (receipt, branch) index
  (the loser re-reads the winner's sale).
- A void never takes a balance below zero: the sale's points are taken back as far as the
  balance covers them; points the member already spent are written off (``unrecovered`` in the
  result, shown to staff and audited). A negative balance would follow the member to the
  counter as a debt nobody can explain, and the ledger's "never negative" rule holds for all.
  Points of the sale that already expired are not taken again (``expired`` in the result): the
  expiry took them back, and the balance left is other purchases' points.
- Voiding: managers and owners any sale (of their branch, if scoped); a cashier only a sale
  they recorded themselves, at their branch, within :data:`CASHIER_VOID_WINDOW`, and whose
  points are all still unspent (first in, first out): else a sale to a second membership of
  their own, its points spent on a reward and then voided, would leave them a free reward
  with the points written off.
- Expiry writes at most one ``expire`` entry per member per UTC day, for the lots (see
  :func:`shop.loyalty.unspent_lots`) whose expiry has passed, and never more than the
  balance.
- Both read the member's ledger with the member's row locked (:meth:`PointsLedger.locked_balance`):
  a void, an expiry or a redemption committed meanwhile by another transaction is in what they
  read, so no points are taken twice.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Final
from zoneinfo import ZoneInfo

from bot.core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from shop.inputs import as_typed_ascii
from shop.loyalty import (
    LoyaltyRules,
    Tier,
    add_months,
    expired_of_sale,
    unspent_lots,
    unspent_of_sale,
)
from storage.models import Branch, Member, PointsEntry, Sale, Staff
from storage.repositories.arrival import StaffLike
from storage.repositories.members import CODE_ALPHABET
from storage.repositories.points import InsufficientPoints, PointsLedger
from storage.repositories.sales import BeforeSale
from storage.uow import UnitOfWork

CASHIER_VOID_WINDOW: Final = timedelta(minutes=30)
MAX_ADJUST: Final = 1_000_000
MAX_RECEIPT_LENGTH: Final = 64
MAX_CATEGORIES_LENGTH: Final = 200
MAX_REASON_LENGTH: Final = 200
#: the roles that may void any sale and adjust points (owner > manager > cashier)
MANAGER_ROLES: Final = ("manager", "owner")
_CENT: Final = Decimal("0.01")
#: receipts compare with Latin letters in capitals; other scripts as written (Thai has no case)
_ASCII_CAPITALS: Final = str.maketrans(string.ascii_lowercase, string.ascii_uppercase)


@dataclass(frozen=True, slots=True)
class SaleResult:
    sale: Sale
    points: int
    balance_before: int
    balance: int
    #: True when the receipt had been recorded before: nothing changed now
    duplicate: bool
    tier_before: Tier
    tier: Tier
    #: the member had no other (non-voided) sale before this one
    first_purchase: bool

    @property
    def tier_up(self) -> bool:
        return not self.duplicate and self.tier.min_spend > self.tier_before.min_spend


@dataclass(frozen=True, slots=True)
class VoidResult:
    sale: Sale
    #: points taken back from the member
    points: int
    #: points of the sale the member had already spent (written off, not taken back)
    unrecovered: int
    balance_before: int
    balance: int
    #: points of the sale that had already expired (the expiry took them, not the void)
    expired: int = 0


@dataclass(frozen=True, slots=True)
class AdjustResult:
    entry: PointsEntry
    balance_before: int
    balance: int


def check_amount(amount: Decimal, rules: LoyaltyRules) -> Decimal:
    """``amount`` if it is a sale amount the shop accepts, else InvalidInput saying why."""
    if not amount.is_finite() or amount <= 0:
        raise InvalidInput("sale.amount_positive")
    # the size first: quantizing an amount of more digits than the decimal context holds
    # (a card number pasted as the amount) raises InvalidOperation instead of answering
    if amount > rules.max_sale_amount:
        raise InvalidInput("sale.amount_too_large", max=f"{rules.max_sale_amount:,.0f}")
    if amount != amount.quantize(_CENT):
        raise InvalidInput("sale.amount_decimals")
    return amount.quantize(_CENT)


def receipt_as_stored(receipt_no: str) -> str:
    """One paper receipt typed on a Thai keyboard (``๑๒๓``), with a phone's full-width digits
    (``１２３``), in ASCII, in capitals or not (``inv-001`` is ``INV-001``) is one receipt:
    NFKC, then Thai digits, stripped, then ASCII letters in capitals (a till prints Latin
    letters; migration 0023 stored the receipts kept before in the same form)."""
    return as_typed_ascii(receipt_no).strip().translate(_ASCII_CAPITALS)


def check_receipt(receipt_no: str) -> str:
    receipt = receipt_as_stored(receipt_no)
    if not receipt or len(receipt) > MAX_RECEIPT_LENGTH or any(ch.isspace() for ch in receipt):
        raise InvalidInput("sale.receipt_invalid")
    return receipt


def new_receipt_no(branch: Branch, now: datetime, tz: ZoneInfo) -> str:
    """``<branch>-<yyyymmdd>-<random>`` in shop time; 6 characters of 31 make collisions on one
    branch and day negligible, and a collision is refused (unique receipt), not merged."""
    day = now.astimezone(tz).strftime("%Y%m%d")
    suffix = "".join(secrets.choice(CODE_ALPHABET) for _ in range(6))
    return f"{branch.code.upper()}-{day}-{suffix}"


async def sale_by_receipt(uow: UnitOfWork, receipt_no: str, branch_id: int) -> Sale | None:
    """The sale recorded under ``receipt_no`` at the branch (voided or not), or None."""
    return await uow.sales.by_receipt(receipt_no, branch_id)


async def sale_points(uow: UnitOfWork, sale_id: int) -> int:
    """The points the sale earned (its ``sale:<id>`` entry; 0 when it earned none)."""
    return await uow.sales.points_earned(sale_id)


def tier_window_start(when: datetime, rules: LoyaltyRules) -> datetime:
    """Where the spend a sale at ``when`` earns its tier by begins."""
    return add_months(when, -rules.tier_window_months)


async def record_sale(
    uow: UnitOfWork,
    *,
    member: Member,
    amount: Decimal,
    branch: Branch,
    receipt_no: str,
    categories: Sequence[str] = (),
    staff: StaffLike | None,
    now: datetime,
    rules: LoyaltyRules,
    occurred_at: datetime | None = None,
    source: str = "chat",
    before: BeforeSale | None = None,
) -> SaleResult:
    """Record a sale for ``member`` and credit its points (base points × the multiplier of the
    tier held before it, :meth:`LoyaltyRules.held_tier`, rounded down), or return the earlier
    result of the same receipt. ``occurred_at`` (default ``now``) back-dates the sale.
    ``before``: the member's figures since :func:`tier_window_start` of the sale's time, when
    the caller read them with the member in this unit of work (read here otherwise)."""
    amount = check_amount(amount, rules)
    receipt = check_receipt(receipt_no)
    if member.erased_at is not None:
        raise NotFound("error.member_not_found", query=member.member_code)
    when = occurred_at or now
    # read before the sale is written (the tier it earns at, a first purchase); a receipt
    # recorded before, or by another transaction at the same moment, is then not written
    if before is None:
        before = await uow.sales.before_sale(member.id, tier_window_start(when, rules))
    tier_before, _ = rules.held_tier(member.tier, before.spend)
    sale = Sale(
        receipt_no=receipt,
        member_id=member.id,
        branch_id=branch.id,
        amount=amount,
        occurred_at=when,
        categories=",".join(categories)[:MAX_CATEGORIES_LENGTH] or None,
        used_coupon=False,
        staff_id=staff.id if staff is not None else None,
        voided_at=None,
        voided_by_staff_id=None,
        source=source,
    )
    if not await uow.sales.add_unless_taken(sale):
        existing = await sale_by_receipt(uow, receipt, branch.id)
        assert existing is not None  # add_unless_taken found it taken
        return await _duplicate(uow, existing, member, amount, now, rules)
    points = rules.sale_points(amount, tier_before)
    balance = await _credit(uow, sale, points, now) if points > 0 else before.balance
    tier, _ = rules.held_tier(member.tier, before.spend + amount)
    return SaleResult(
        sale=sale,
        points=points,
        balance_before=balance - points,
        balance=balance,
        duplicate=False,
        tier_before=tier_before,
        tier=tier,
        first_purchase=not before.bought,
    )


async def _credit(uow: UnitOfWork, sale: Sale, points: int, now: datetime) -> int:
    """Credit a new sale's ``points`` (> 0) to its member, earned when the sale happened; the
    balance after. The sale was written just now: its key cannot have been used."""
    assert sale.member_id is not None
    return await uow.points.append_new(
        sale.member_id,
        points,
        "sale",
        now,
        earned_at=sale.occurred_at,
        sale_id=sale.id,
        idempotency_key=f"sale:{sale.id}",
    )


async def _duplicate(
    uow: UnitOfWork,
    sale: Sale,
    member: Member,
    amount: Decimal,
    now: datetime,
    rules: LoyaltyRules,
) -> SaleResult:
    if sale.member_id != member.id or sale.amount != amount:
        raise Conflict("sale.receipt_conflict", receipt=sale.receipt_no)
    if sale.voided_at is not None:
        raise Conflict("sale.receipt_voided", receipt=sale.receipt_no)
    balance = await uow.points.balance(member.id)
    spend = await uow.members.spend_since(member.id, add_months(now, -rules.tier_window_months))
    tier, _ = rules.held_tier(member.tier, spend)
    return SaleResult(
        sale=sale,
        points=await sale_points(uow, sale.id),
        balance_before=balance,
        balance=balance,
        duplicate=True,
        tier_before=tier,
        tier=tier,
        first_purchase=False,
    )


def is_manager(staff: StaffLike) -> bool:
    """Whether ``staff`` is a manager or an owner (a role that may do what a manager may)."""
    return staff.role in MANAGER_ROLES


def check_may_void(sale: Sale, staff: StaffLike, now: datetime) -> None:
    """Raise NotAllowed unless ``staff`` may void ``sale`` (rules in the module docstring)."""
    if staff.branch_id is not None and sale.branch_id != staff.branch_id:
        raise NotAllowed("sale.void_other_branch")
    if is_manager(staff):
        return
    if sale.staff_id != staff.id:
        raise NotAllowed("sale.void_not_yours")
    if now - sale.occurred_at > CASHIER_VOID_WINDOW:
        minutes = int(CASHIER_VOID_WINDOW.total_seconds() // 60)
        raise NotAllowed("sale.void_too_late", minutes=minutes)


async def sale_to_void(
    uow: UnitOfWork, receipt: str, staff: StaffLike, branch_code: str | None
) -> Sale:
    """The sale ``receipt`` names for ``staff``: at ``branch_code`` when given, else at the
    staff member's own branch when it printed that number, else at the one branch that did;
    two branches' receipts of one number and no branch named is a question (which branch?)."""
    found = await uow.sales.at_every_branch(receipt) if receipt else []
    if branch_code is not None:
        branch = await uow.branches.by_code(branch_code.lower())
        found = [sale for sale in found if branch is not None and sale.branch_id == branch.id]
    own = [sale for sale in found if sale.branch_id == staff.branch_id]
    if own or len(found) == 1:
        return (own or found)[0]
    if not found:
        raise NotFound("sale.receipt_not_found", receipt=receipt[:MAX_RECEIPT_LENGTH])
    branches = [await uow.branches.get(sale.branch_id) for sale in found]
    codes = ", ".join(branch.code for branch in branches if branch is not None)
    raise InvalidInput("sale.branch_required", branches=codes)


async def void_sale(
    uow: UnitOfWork,
    *,
    receipt_no: str,
    staff: StaffLike,
    now: datetime,
    branch_code: str | None = None,
) -> VoidResult:
    """Void the sale with ``receipt_no`` (at ``branch_code``, see :func:`sale_to_void`) once
    and take its points back (never below zero)."""
    sale = await sale_to_void(uow, receipt_as_stored(receipt_no), staff, branch_code)
    check_may_void(sale, staff, now)
    if not await uow.sales.mark_voided(sale, now, staff.id):
        raise Conflict("sale.already_voided", receipt=sale.receipt_no)
    if sale.member_id is None:
        return VoidResult(sale, 0, 0, 0, 0)
    earned = await sale_points(uow, sale.id)
    before = await uow.points.locked_balance(sale.member_id)
    entries = await uow.points.entries(sale.member_id) if earned else []
    expired = expired_of_sale(entries, sale.id) if earned else 0
    owed = earned - expired
    if owed > 0 and not is_manager(staff) and unspent_of_sale(entries, sale.id) < owed:
        # read under the member's lock: a redemption cannot slip in between. The caller rolls
        # the void mark back with the refusal.
        raise NotAllowed("sale.void_points_spent")
    taken = min(owed, max(before, 0))
    if taken > 0:  # the row is locked: the balance read is the one debited
        await uow.points.append(
            sale.member_id, -taken, "void", now, sale_id=sale.id, idempotency_key=f"void:{sale.id}"
        )
    after = await uow.points.balance(sale.member_id)
    return VoidResult(sale, taken, owed - taken, before, after, expired)


async def adjust_points(
    uow: UnitOfWork, *, member: Member, delta: int, reason: str, staff: Staff, now: datetime
) -> AdjustResult:
    """A manual correction by a manager or owner, with a reason; never below zero."""
    if not is_manager(staff):
        raise NotAllowed("adjust.not_allowed")
    if delta == 0 or abs(delta) > MAX_ADJUST:
        raise InvalidInput("adjust.delta_invalid", max=f"{MAX_ADJUST:,}")
    note = " ".join(reason.split())[:MAX_REASON_LENGTH]
    if not note:
        raise InvalidInput("adjust.reason_required")
    before = await uow.points.balance(member.id)
    try:
        entry = await uow.points.append(member.id, delta, "adjust", now, note=note)
    except InsufficientPoints:
        raise InvalidInput(
            "adjust.below_zero", balance=f"{before:,}", points=f"{-delta:,}"
        ) from None
    assert entry is not None  # no idempotency key: always written
    return AdjustResult(entry, before, await uow.points.balance(member.id))


async def expire_points(
    uow: UnitOfWork, *, member_id: int, now: datetime, rules: LoyaltyRules, tz: ZoneInfo
) -> int:
    """Expire the member's unspent points whose expiry has passed (on the shop's calendar,
    ``tz``); returns how many.

    Idempotent per UTC day (``expire:<member>:<date>``). A redemption or a void committed
    before the member's row is locked here is in the ledger read under the lock: the expiry
    takes only what is still due.
    """
    if await _due(uow.points, member_id, now, rules, tz) <= 0:
        return 0  # nothing due: nothing to lock
    balance = await uow.points.locked_balance(member_id)
    due = min(await _due(uow.points, member_id, now, rules, tz), balance)
    if due <= 0:
        return 0
    key = f"expire:{member_id}:{now.date().isoformat()}"
    # the row is locked: the balance read covers the debit
    entry = await uow.points.append(member_id, -due, "expire", now, idempotency_key=key)
    return 0 if entry is None else due


async def _due(
    points: PointsLedger, member_id: int, now: datetime, rules: LoyaltyRules, tz: ZoneInfo
) -> int:
    """The member's unspent points whose expiry has passed, as the ledger reads now."""
    lots = unspent_lots(await points.entries(member_id), rules.expiry_months, tz)
    return sum(lot.remaining for lot in lots if lot.expires_at <= now)
