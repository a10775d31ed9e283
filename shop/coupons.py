"""Coupons: codes people can read aloud, issuing one, redeeming it at most once.

A code is 13 characters of Crockford base32 (65 bits from ``secrets``), shown as
``XXXX-XXXX-XXXXX``; typed input is forgiving (case, dashes, spaces, Thai digits, a phone's
full-width characters, ``O``→``0``, ``I``/``L``→``1``, the ``CPN:`` prefix of the coupon QR).
Redemption is one conditional ``UPDATE`` (``status = 'issued' AND expires_at > now``): of any
number of simultaneous attempts exactly one wins, on SQLite and on PostgreSQL. Campaign offers
use :func:`issue_coupon` too.
"""

from __future__ import annotations

import io
import secrets
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

import segno

from bot.core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from shop.coupon_windows import within_conditions
from shop.inputs import as_typed_ascii
from storage.models import Branch, Coupon, Staff
from storage.uow import UnitOfWork

CODE_ALPHABET: Final = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford: no I, L, O, U
CODE_LENGTH: Final = 13  # 13 × 5 = 65 bits of randomness
QR_PREFIX: Final = "CPN:"
UTC_ZONE: Final = ZoneInfo("UTC")
_CONFUSABLE: Final = str.maketrans({"O": "0", "I": "1", "L": "1"})
_SEPARATORS: Final = str.maketrans("", "", " -_.\u2010\u2011\u2012\u2013\u2014\u2212\u200b\t")


class MemberErased(Conflict):
    """The member was erased (a moment ago, while this was under way): no coupon for them."""

    key = "coupons.member_erased"


class CouponNotFound(NotFound):
    key = "redeem.not_found"


class CouponAlreadyUsed(Conflict):
    """Carries the coupon as it is now, so the reply can say when and where it was used."""

    key = "redeem.already_used_plain"

    def __init__(self, coupon: Coupon) -> None:
        super().__init__()
        self.coupon = coupon


class CouponExpired(Conflict):
    key = "redeem.expired_plain"

    def __init__(self, coupon: Coupon) -> None:
        super().__init__()
        self.coupon = coupon


class CouponWrongBranch(NotAllowed):
    key = "redeem.wrong_branch"


class BranchNeeded(InvalidInput):
    key = "redeem.branch_needed"


class CouponOutsideWindow(NotAllowed):
    """Redeemed outside the weekdays/hours its ``conditions`` allow (the reply names them)."""

    key = "tracking.outside_window_plain"

    def __init__(self, coupon: Coupon) -> None:
        super().__init__()
        self.coupon = coupon


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(text: str) -> str | None:
    """The stored form of a typed or scanned code, or None when it cannot be one."""
    cleaned = as_typed_ascii(text).strip().upper()
    cleaned = cleaned.removeprefix(QR_PREFIX).translate(_SEPARATORS).translate(_CONFUSABLE)
    if len(cleaned) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in cleaned):
        return None
    return cleaned


def display_code(code: str) -> str:
    """``XXXX-XXXX-XXXXX``: short groups a cashier can read back."""
    return f"{code[:4]}-{code[4:8]}-{code[8:]}"


def coupon_qr_png(code: str) -> bytes:
    buffer = io.BytesIO()
    segno.make(QR_PREFIX + display_code(code), error="m").save(
        buffer, kind="png", scale=8, border=2
    )
    return buffer.getvalue()


def expiry_after(now: datetime, valid_days: int, tz: ZoneInfo) -> datetime:
    """The end of the shop's day ``valid_days`` from now: "valid until 2 Apr" means all of it."""
    last_day = (now.astimezone(tz) + timedelta(days=valid_days)).date()
    return datetime.combine(last_day + timedelta(days=1), time(), tzinfo=tz)


def last_valid_day(coupon: Coupon, tz: ZoneInfo) -> date:
    return (coupon.expires_at - timedelta(microseconds=1)).astimezone(tz).date()


def coupon_title(coupon: Coupon, locale: str) -> str:
    return coupon.title_th if locale == "th" else coupon.title_en


async def issue_coupon(
    uow: UnitOfWork,
    member_id: int,
    title_th: str,
    title_en: str,
    expires_at: datetime,
    now: datetime,
    *,
    reward_id: int | None = None,
    campaign_id: int | None = None,
    points_spent: int = 0,
    branch_codes: Sequence[str] = (),
    conditions: dict[str, Any] | None = None,
) -> Coupon:
    """Write a new coupon with a fresh unique code (nothing is charged here: the caller debits
    points or stock in the same unit of work). Raises :class:`MemberErased` when the member
    is erased, also by an erasure still in progress (waited for): its unused coupons are voided,
    and none may be made for it after (the caller's debit is undone with the error)."""
    if not await uow.members.hold_unerased(member_id):
        raise MemberErased()
    code = new_code()
    while await uow.coupons.code_taken(code):  # 2^65 codes: practically never loops
        code = new_code()
    return await uow.coupons.add(
        Coupon(
            code=code,
            member_id=member_id,
            reward_id=reward_id,
            campaign_id=campaign_id,
            title_th=title_th,
            title_en=title_en,
            points_spent=points_spent,
            branch_codes=list(branch_codes),
            conditions=conditions,
            status="issued",
            issued_at=now,
            expires_at=expires_at,
        )
    )


async def redeem_coupon(
    uow: UnitOfWork,
    code: str,
    staff: Staff | None,
    branch: Branch | None,
    now: datetime,
    tz: ZoneInfo = UTC_ZONE,
) -> Coupon:
    """Use the coupon ``code`` names at ``branch``; returns it, redeemed.

    Raises :class:`CouponNotFound` (no such code), :class:`BranchNeeded` (a branch-limited
    coupon and no branch given), :class:`CouponWrongBranch`, :class:`CouponOutsideWindow`
    (outside its weekdays/hours in shop time ``tz``), :class:`CouponAlreadyUsed` or
    :class:`CouponExpired`. Nothing is written unless it succeeds.
    """
    normal = normalise_code(code)
    coupon = await uow.coupons.by_code(normal) if normal else None
    if coupon is None:
        raise CouponNotFound()
    if coupon.branch_codes:
        if branch is None:
            raise BranchNeeded()
        if branch.code not in coupon.branch_codes:
            raise CouponWrongBranch()
    if coupon.status == "issued" and not within_conditions(coupon.conditions, now, tz):
        raise CouponOutsideWindow(coupon)
    won = await uow.coupons.mark_redeemed(
        coupon.id, now, branch.id if branch else None, staff.id if staff else None
    )
    current = await uow.coupons.get(coupon.id)
    assert current is not None
    if won:
        return current
    if current.status == "redeemed":
        raise CouponAlreadyUsed(current)
    if current.status == "issued" or current.status == "expired":
        raise CouponExpired(current)
    raise CouponNotFound()  # void: as good as no coupon
