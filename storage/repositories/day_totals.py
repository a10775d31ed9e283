"""The totals of one shop day, for the whole shop or one branch: what the daily digest counts.

Every total is one SQL aggregate over [start, end); ``branch_id`` narrows it to one branch (its
sales, the members whose home branch it is, the coupons redeemed at it); None is the whole shop.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Final

from sqlalchemy import BigInteger, ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.expression import type_coerce

from storage.models import Branch, Campaign, Coupon, Member, Sale
from storage.types import SATANG_PER_BAHT


@dataclass(frozen=True, slots=True)
class BranchTakings:
    """One branch's non-voided sales of the day."""

    name_th: str
    name_en: str
    sales: int
    revenue: Decimal


@dataclass(frozen=True, slots=True)
class ActiveCampaign:
    """A campaign or automation that ran during the day."""

    id: int
    name: str
    automation: bool
    kind: str = "campaign"


def _baht(satang: Any) -> Decimal:
    return (Decimal(int(satang or 0)) / SATANG_PER_BAHT).quantize(Decimal("0.01"))


def _at(column: Any, branch_id: int | None) -> list[ColumnElement[bool]]:
    """The extra condition of one branch's totals (none for the whole shop)."""
    return [] if branch_id is None else [column == branch_id]


def _sales_window(start: datetime, end: datetime, branch_id: int | None) -> list[Any]:
    return [
        Sale.occurred_at >= start,
        Sale.occurred_at < end,
        Sale.voided_at.is_(None),
        *_at(Sale.branch_id, branch_id),
    ]


_SATANG: Final = type_coerce(Sale.amount, BigInteger)


class DayTotals:
    """Aggregates of [start, end) for the digest; nothing is written."""

    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def takings(
        self, start: datetime, end: datetime, branch_id: int | None = None
    ) -> tuple[int, Decimal]:
        """How many non-voided sales, and their total in baht."""
        window = _sales_window(start, end, branch_id)
        count, total = (
            await self._s.execute(select(func.count(Sale.id), func.sum(_SATANG)).where(*window))
        ).one()
        return int(count), _baht(total)

    async def takings_by_branch(
        self, start: datetime, end: datetime, branch_id: int | None = None
    ) -> list[BranchTakings]:
        """The same per branch, biggest revenue first (then by branch id)."""
        rows = await self._s.execute(
            select(Branch.name_th, Branch.name_en, func.count(Sale.id), func.sum(_SATANG))
            .join(Branch, Branch.id == Sale.branch_id)
            .where(*_sales_window(start, end, branch_id))
            .group_by(Branch.id, Branch.name_th, Branch.name_en)
            .order_by(func.sum(_SATANG).desc(), Branch.id)
        )
        return [BranchTakings(th, en, int(n), _baht(v)) for th, en, n, v in rows]

    async def new_members(
        self, start: datetime, end: datetime, branch_id: int | None = None
    ) -> int:
        """Members who joined (and are not erased); for a branch, those whose home it is."""
        joined = select(func.count(Member.id)).where(
            Member.joined_at >= start,
            Member.joined_at < end,
            Member.erased_at.is_(None),
            *_at(Member.home_branch_id, branch_id),
        )
        return int((await self._s.execute(joined)).scalar_one())

    async def redemptions(
        self, start: datetime, end: datetime, branch_id: int | None = None
    ) -> int:
        """Coupons redeemed; for a branch, those redeemed at it."""
        redeemed = select(func.count(Coupon.id)).where(
            Coupon.redeemed_at >= start,
            Coupon.redeemed_at < end,
            *_at(Coupon.redeemed_branch_id, branch_id),
        )
        return int((await self._s.execute(redeemed)).scalar_one())

    async def campaigns_active(
        self, start: datetime, end: datetime, automation_prefix: str, lookback: timedelta
    ) -> list[ActiveCampaign]:
        """Campaigns started before ``end`` and not cancelled, by id: an owner's campaign while
        not finished before ``start``; an automation's (kind starting ``automation_prefix``)
        when it started within ``lookback`` of ``start`` (the caller decides if it still counts).
        """
        automation = Campaign.kind.like(f"{automation_prefix}%")
        active = await self._s.execute(
            select(Campaign.id, Campaign.name, automation, Campaign.kind)
            .where(
                Campaign.started_at.is_not(None),
                Campaign.started_at < end,
                Campaign.status != "cancelled",
                or_(
                    and_(
                        ~automation,
                        or_(Campaign.finished_at.is_(None), Campaign.finished_at >= start),
                    ),
                    and_(automation, Campaign.started_at >= start - lookback),
                ),
            )
            .order_by(Campaign.id)
        )
        return [
            ActiveCampaign(int(i), name, bool(auto), kind) for i, name, auto, kind in active.all()
        ]
