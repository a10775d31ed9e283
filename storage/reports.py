"""The shop report's numbers, each one SQL aggregate (no member or sale rows leave the database).

"Active" means at least one non-voided sale in the last :data:`ACTIVE_DAYS` shop days (today's
included, from the shop's midnight, as the console's "last 30 days" counts them); "new" is the
lifecycle group's meaning (:func:`~storage.segments.lifecycle_pass.new_since`: joined within the
shop's ``new_days`` shop calendar days), so the report's two counts of new members agree.
Sales by weekday and hour are in shop time (``storage.segments.sqltime``).

With a ``branch_id`` (a branch's manager) the report is that branch's, scoped as the web
console's overview is (:mod:`storage.console_queries`): members, new members, groups, tiers
and points are those whose home branch it is; sales are those made there; active members are
those who bought there, wherever their home is.

Points liability = outstanding points × the baht a point is worth (the caller decides the
worth: ``handlers.staff.report.point_value``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, case, func, literal, or_, select
from sqlalchemy.sql.expression import ColumnElement, type_coerce

from storage.console_queries import shop_days_start
from storage.models import Branch, Member, Sale, table_of
from storage.raw_session import session_of
from storage.segments import SegmentEnv
from storage.segments.conditions import add_months
from storage.segments.lifecycle_pass import lifecycle_counts_query, new_since
from storage.segments.sqltime import shop_hour, shop_weekday
from storage.types import SATANG_PER_BAHT
from storage.uow import UnitOfWork

ACTIVE_DAYS: Final = 30


def active_since(now: datetime, tz: ZoneInfo) -> datetime:
    """The start of the report's window: the shop's midnight :data:`ACTIVE_DAYS` − 1 days back."""
    return shop_days_start(now, tz, ACTIVE_DAYS)


@dataclass(frozen=True, slots=True)
class BranchSales:
    code: str
    name_th: str
    name_en: str
    sales: int
    revenue: Decimal


@dataclass(frozen=True, slots=True)
class ShopReport:
    members: int
    new_members: int
    active_members: int
    #: lifecycle group → members (every group present, zeros included)
    by_group: dict[str, int]
    #: tier name → members, lowest tier first
    by_tier: dict[str, int]
    points_outstanding: int
    point_value: Decimal
    liability: Decimal
    by_branch: list[BranchSales]
    #: revenue per weekday, Monday first (7 values), and per hour 0–23, last 30 days
    revenue_by_weekday: list[Decimal]
    revenue_by_hour: list[Decimal]
    sales_last_30d: int
    revenue_last_30d: Decimal


def _baht(satang: Any) -> Decimal:
    return (Decimal(int(satang or 0)) / SATANG_PER_BAHT).quantize(Decimal("0.01"))


async def shop_report(
    uow: UnitOfWork,
    env: SegmentEnv,
    value: Decimal,
    tiers: Sequence[tuple[str, Decimal]],
    tier_window_months: int = 12,
    branch_id: int | None = None,
) -> ShopReport:
    """Everything ``/report`` shows, as of ``env.now``; ``value`` is baht per point and
    ``tiers`` are (name, least spend in the last ``tier_window_months``); ``branch_id``: one
    branch's report (see the module doc), None: the whole shop's."""
    now = env.now
    since = active_since(now, env.tz)
    recent: tuple[ColumnElement[bool], ...] = (
        Sale.occurred_at >= since,
        Sale.occurred_at <= now,
        Sale.voided_at.is_(None),
        *(() if branch_id is None else (Sale.branch_id == branch_id,)),
    )
    members = await _member_counts(uow, new_since(env), recent, branch_id)

    by_group = await lifecycle_counts(uow, env, branch_id)

    by_tier = await _tiers(uow, now, tiers, tier_window_months, branch_id)
    sales = await _recent_sales(uow, env, recent)
    return ShopReport(
        members=members.members,
        new_members=members.new,
        active_members=members.active,
        by_group=by_group,
        by_tier=by_tier,
        points_outstanding=members.points,
        point_value=value,
        liability=(members.points * value).quantize(Decimal("0.01")),
        by_branch=sales.by_branch,
        revenue_by_weekday=sales.by_weekday,
        revenue_by_hour=sales.by_hour,
        sales_last_30d=sales.sales,
        revenue_last_30d=sales.revenue,
    )


async def lifecycle_counts(
    uow: UnitOfWork, env: SegmentEnv, branch_id: int | None = None
) -> dict[str, int]:
    """Live members per lifecycle group with ``env``'s thresholds (every group, zeros too);
    with ``branch_id``, only the members whose home branch it is (the console's managers)."""
    by_group = {name: 0 for name in (*_GROUPS,)}
    query = lifecycle_counts_query(env)
    if branch_id is not None:
        query = query.where(Member.home_branch_id == branch_id)
    for name, count in await session_of(uow).execute(query):
        by_group[name] = int(count)
    return by_group


@dataclass(frozen=True, slots=True)
class _MemberCounts:
    members: int
    new: int
    active: int
    points: int


async def _member_counts(
    uow: UnitOfWork,
    joined_since: datetime,
    recent: tuple[ColumnElement[bool], ...],
    branch_id: int | None,
) -> _MemberCounts:
    """Live members (of ``branch_id``'s home), those who joined since ``joined_since``, and
    the points they hold; and the live members with a ``recent`` sale, wherever their home."""
    s = session_of(uow)
    alive = Member.erased_at.is_(None)
    home = () if branch_id is None else (Member.home_branch_id == branch_id,)
    members, new, points = (
        await s.execute(
            select(
                func.count(Member.id),
                func.count(case((Member.joined_at >= joined_since, 1))),
                func.coalesce(func.sum(Member.points_balance), 0),
            ).where(alive, *home)
        )
    ).one()
    # members with a recent sale, as EXISTS per live member: one probe of the (member, time)
    # index each; a DISTINCT over a month of sales must read and sort every one of them
    recent_sale = select(Sale.id).where(Sale.member_id == Member.id, *recent).exists()
    active = (
        await s.execute(select(func.count()).select_from(Member).where(alive, recent_sale))
    ).scalar_one()
    return _MemberCounts(int(members), int(new), int(active), int(points))


@dataclass(frozen=True, slots=True)
class _RecentSales:
    by_branch: list[BranchSales]
    by_weekday: list[Decimal]
    by_hour: list[Decimal]
    sales: int
    revenue: Decimal


async def _recent_sales(
    uow: UnitOfWork, env: SegmentEnv, recent: tuple[ColumnElement[bool], ...]
) -> _RecentSales:
    """The ``recent`` sales per branch (most revenue first), per weekday and per hour."""
    s = session_of(uow)
    # one pass over the last 30 days' sales, grouped by branch, weekday and hour (at most
    # branches × 168 rows); every sales figure of the report is a sum of those groups
    weekday = shop_weekday(table_of(Sale).c.occurred_at, env.tz)
    hour = shop_hour(table_of(Sale).c.occurred_at, env.tz)
    satang = type_coerce(Sale.amount, BigInteger)
    groups = await s.execute(
        select(Sale.branch_id, weekday, hour, func.count(Sale.id), func.sum(satang))
        .where(*recent)
        .group_by(Sale.branch_id, weekday, hour)
    )
    per_branch: dict[int | None, list[int]] = {}
    by_weekday_satang, by_hour_satang = [0] * 7, [0] * 24
    sales = revenue = 0
    for branch_id, day, h, count, total in groups:
        amount = int(total or 0)
        branch = per_branch.setdefault(branch_id, [0, 0])
        branch[0] += int(count)
        branch[1] += amount
        by_weekday_satang[int(day) - 1] += amount
        by_hour_satang[int(h)] += amount
        sales += int(count)
        revenue += amount
    branches = (
        await s.execute(
            select(Branch.id, Branch.code, Branch.name_th, Branch.name_en).where(
                Branch.id.in_([b for b in per_branch if b is not None])
            )
        )
    ).all()
    ordered = sorted(branches, key=lambda b: (-per_branch[b.id][1], b.code))
    by_branch = [
        BranchSales(b.code, b.name_th, b.name_en, per_branch[b.id][0], _baht(per_branch[b.id][1]))
        for b in ordered
    ]
    return _RecentSales(
        by_branch=by_branch,
        by_weekday=[_baht(total) for total in by_weekday_satang],
        by_hour=[_baht(total) for total in by_hour_satang],
        sales=sales,
        revenue=_baht(revenue),
    )


_GROUPS: Final = ("new", "returning", "regular", "fan", "deal_seeker", "lapsed", "other")


async def _tiers(
    uow: UnitOfWork,
    now: datetime,
    tier_list: Sequence[tuple[str, Decimal]],
    months: int,
    branch_id: int | None = None,
) -> dict[str, int]:
    """Members per tier held (as ``shop.loyalty`` decides it: the tier their spend in the tier
    window reaches, or the one the review gave them if higher);
    with ``branch_id``, only the members whose home branch it is."""
    satang = type_coerce(Sale.amount, BigInteger)
    since = add_months(now, -months)
    # one grouped pass over the window's sales, joined to members: a correlated sum per
    # member would probe ``sales`` once for each of them
    totals = (
        select(Sale.member_id.label("member_id"), func.sum(satang).label("spend"))
        .where(Sale.occurred_at >= since, Sale.voided_at.is_(None), Sale.member_id.is_not(None))
        .group_by(Sale.member_id)
        .subquery()
    )
    spend = func.coalesce(totals.c.spend, 0)
    tiers = sorted(tier_list, key=lambda tier: tier[1])
    names = [name for name, _ in tiers]
    # the tier held: the spend's, or the one the review gave (``members.tier``) if higher
    whens = [
        (
            or_(spend >= int(least * SATANG_PER_BAHT), Member.tier.in_(names[rank:])),
            literal(name),
        )
        for rank, (name, least) in reversed(list(enumerate(tiers)))
    ]
    tier = case(*whens, else_=literal(tiers[0][0])).label("tier")
    counts = {name: 0 for name, _ in tiers}
    rows = await session_of(uow).execute(
        select(tier, func.count())
        .select_from(Member)
        .outerjoin(totals, totals.c.member_id == Member.id)
        .where(
            Member.erased_at.is_(None),
            *(() if branch_id is None else (Member.home_branch_id == branch_id,)),
        )
        .group_by(tier)
    )
    for name, count in rows:
        counts[name] = int(count)
    return counts


#: members per tier, for the web console's overview (the same count ``/report`` makes)
tier_counts = _tiers
