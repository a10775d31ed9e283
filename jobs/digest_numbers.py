"""The numbers of the daily digest: one shop day, for the whole shop or for one branch.

Every number is an SQL aggregate over [start, end) (one shop day, yesterday):

- sales recorded (non-voided: count, total, by branch);
- new members (joined, not erased) — for a branch, those whose home branch it is;
- coupons redeemed — for a branch, those redeemed at it;
- feedback answered (count, mean stars, ratings ≤ 2) — for a branch, about visits to it;
- campaigns and automations active that day (see :func:`campaign_lines`; cancelled ones never)
  with their sent, redeemed and revenue from ``/stats``. They are shop-wide numbers, so a
  branch digest leaves them out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, and_, func, or_, select
from sqlalchemy.sql.expression import type_coerce

from jobs.automations.common import KIND_PREFIX
from shop.campaigns.stats import compute_stats
from storage.models import Branch, Campaign, Coupon, Member, Sale
from storage.types import SATANG_PER_BAHT
from storage.uow import UnitOfWork

#: a period (a month) plus the longest attribution window an automation uses
AUTOMATION_LOOKBACK = timedelta(days=62)


@dataclass(frozen=True, slots=True)
class CampaignLine:
    name: str
    sent: int
    redeemed: int
    revenue: Decimal


@dataclass
class Digest:
    day: date
    #: the branch this digest is about, (name th, name en); None for the whole shop
    branch: tuple[str, str] | None = None
    sales: int = 0
    revenue: Decimal = Decimal("0.00")
    #: (branch name th, branch name en, sales, revenue), biggest revenue first
    by_branch: list[tuple[str, str, int, Decimal]] = field(default_factory=list)
    new_members: int = 0
    redemptions: int = 0
    feedback: int = 0
    rating: float | None = None
    low_ratings: int = 0
    campaigns: list[CampaignLine] = field(default_factory=list)
    #: LINE messages left this month; None when unknown (no LINE), -1 when unlimited
    quota_left: int | None = None


def _baht(satang: Any) -> Decimal:
    return (Decimal(int(satang or 0)) / SATANG_PER_BAHT).quantize(Decimal("0.01"))


def _at(column: Any, branch_id: int | None) -> list[ColumnElement[bool]]:
    """The extra condition of a branch digest (none for the whole shop)."""
    return [] if branch_id is None else [column == branch_id]


async def digest_numbers(
    uow: UnitOfWork, day: date, start: datetime, end: datetime, branch_id: int | None = None
) -> Digest:
    """Everything the digest says about [start, end) (one shop day), for the whole shop or,
    with ``branch_id``, for that branch only (see the module doc)."""
    s = uow.session
    digest = Digest(day)
    if branch_id is not None:
        branch = await s.get(Branch, branch_id)
        digest.branch = (branch.name_th, branch.name_en) if branch is not None else ("", "")
    satang = type_coerce(Sale.amount, BigInteger)
    window = (
        Sale.occurred_at >= start,
        Sale.occurred_at < end,
        Sale.voided_at.is_(None),
        *_at(Sale.branch_id, branch_id),
    )
    count, total = (
        await s.execute(select(func.count(Sale.id), func.sum(satang)).where(*window))
    ).one()
    digest.sales, digest.revenue = int(count), _baht(total)
    rows = await s.execute(
        select(Branch.name_th, Branch.name_en, func.count(Sale.id), func.sum(satang))
        .join(Branch, Branch.id == Sale.branch_id)
        .where(*window)
        .group_by(Branch.id, Branch.name_th, Branch.name_en)
        .order_by(func.sum(satang).desc(), Branch.id)
    )
    digest.by_branch = [(th, en, int(n), _baht(v)) for th, en, n, v in rows]
    joined = select(func.count(Member.id)).where(
        Member.joined_at >= start,
        Member.joined_at < end,
        Member.erased_at.is_(None),
        *_at(Member.home_branch_id, branch_id),
    )
    digest.new_members = int((await s.execute(joined)).scalar_one())
    redeemed = select(func.count(Coupon.id)).where(
        Coupon.redeemed_at >= start,
        Coupon.redeemed_at < end,
        *_at(Coupon.redeemed_branch_id, branch_id),
    )
    digest.redemptions = int((await s.execute(redeemed)).scalar_one())
    ratings = [
        rating
        for rating in await uow.feedback.by_branch(start, end)
        if branch_id is None or rating.branch_id == branch_id
    ]
    digest.feedback = sum(r.answers for r in ratings)
    digest.low_ratings = sum(r.low for r in ratings)
    if digest.feedback:
        digest.rating = sum(r.average * r.answers for r in ratings) / digest.feedback
    if branch_id is None:
        digest.campaigns = await campaign_lines(uow, start, end)
    return digest


async def campaign_lines(uow: UnitOfWork, start: datetime, end: datetime) -> list[CampaignLine]:
    """Campaigns and automations active in [start, end), with their ``/stats`` numbers.

    An owner's campaign is active from its start until it finished. An automation's campaign
    takes members in all its period and does not finish as a whole (its status may say
    ``sent`` once the first day's messages went out), so it counts as active while its last
    member is still measured: last enrolment + attribution days.
    """
    automation = Campaign.kind.like(f"{KIND_PREFIX}%")
    active = await uow.session.execute(
        select(Campaign.id, Campaign.name, automation)
        .where(
            Campaign.started_at.is_not(None),
            Campaign.started_at < end,
            Campaign.status != "cancelled",
            or_(
                and_(
                    ~automation,
                    or_(Campaign.finished_at.is_(None), Campaign.finished_at >= start),
                ),
                # an automation's period is at most a month: older ones are no longer measured
                and_(automation, Campaign.started_at >= start - AUTOMATION_LOOKBACK),
            ),
        )
        .order_by(Campaign.id)
    )
    lines = []
    for campaign_id, name, is_automation in active.all():
        stats = await compute_stats(uow, campaign_id, end)
        if is_automation and (stats.window_end is None or stats.window_end <= start):
            continue
        recipients = stats.recipients
        lines.append(CampaignLine(name, recipients.sent, recipients.redeemed, recipients.revenue))
    return lines
