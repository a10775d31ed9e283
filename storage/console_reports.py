"""The web console's reports: sales per branch by weekday and hour, and per branch and day,
over the last N days of shop time, and the automations' campaigns (their results come from
``shop.campaigns.stats``, as ``/stats`` has them).

Branch-scoped like :mod:`storage.console_queries`: ``branch_id`` None is the whole shop.
Each figure is one grouped query: at most branches × 168 (hours of the week) or branches ×
days rows leave the database, never a sale.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, select
from sqlalchemy.sql.expression import ColumnElement, type_coerce
from sqlalchemy.sql.functions import func

from storage.console_queries import shop_days_start
from storage.models import Branch, Campaign, Sale, table_of
from storage.raw_session import session_of
from storage.segments.sqltime import shop_date, shop_hour, shop_weekday
from storage.types import SATANG_PER_BAHT
from storage.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class BranchName:
    branch_id: int | None
    code: str
    name_th: str
    name_en: str


@dataclass(frozen=True, slots=True)
class BranchHours:
    branch: BranchName
    #: sales per ISO weekday (index 0 = Monday) and hour 0–23
    cells: list[list[int]]


@dataclass(frozen=True, slots=True)
class DaySales:
    day: date
    sales: int
    revenue: Decimal


@dataclass(frozen=True, slots=True)
class BranchDays:
    branch: BranchName
    #: every day of the window, oldest first (days without a sale too)
    days: list[DaySales]


_NO_BRANCH = BranchName(None, "-", "ไม่ระบุสาขา", "No branch")


def _recent(branch_id: int | None, since: datetime, now: datetime) -> list[ColumnElement[bool]]:
    where = [Sale.occurred_at >= since, Sale.occurred_at <= now, Sale.voided_at.is_(None)]
    if branch_id is not None:
        where.append(Sale.branch_id == branch_id)
    return where


async def _names(uow: UnitOfWork, ids: Sequence[int | None]) -> dict[int | None, BranchName]:
    rows = await session_of(uow).execute(
        select(Branch.id, Branch.code, Branch.name_th, Branch.name_en).where(
            Branch.id.in_([i for i in ids if i is not None])
        )
    )
    found: dict[int | None, BranchName] = {r[0]: BranchName(r[0], r[1], r[2], r[3]) for r in rows}
    return {i: found.get(i, _NO_BRANCH) for i in ids}


async def hours_of_week(
    uow: UnitOfWork, now: datetime, tz: ZoneInfo, days: int, branch_id: int | None
) -> list[BranchHours]:
    """Sales per branch × weekday × hour in the last ``days`` shop days, branches by code."""
    moment = table_of(Sale).c.occurred_at
    weekday, hour = shop_weekday(moment, tz), shop_hour(moment, tz)
    rows = await session_of(uow).execute(
        select(Sale.branch_id, weekday, hour, func.count(Sale.id))
        .where(*_recent(branch_id, shop_days_start(now, tz, days), now))
        .group_by(Sale.branch_id, weekday, hour)
    )
    cells: dict[int | None, list[list[int]]] = {}
    for branch, day, h, count in rows:
        grid = cells.setdefault(branch, [[0] * 24 for _ in range(7)])
        grid[int(day) - 1][int(h)] = int(count)
    names = await _names(uow, list(cells))
    found = [BranchHours(names[b], grid) for b, grid in cells.items()]
    return sorted(found, key=lambda b: b.branch.code)


def _day(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


async def sales_by_day(
    uow: UnitOfWork, now: datetime, tz: ZoneInfo, days: int, branch_id: int | None
) -> list[BranchDays]:
    """Sales and revenue per branch and shop day over the last ``days`` days."""
    day = shop_date(table_of(Sale).c.occurred_at, tz)
    satang = type_coerce(Sale.amount, BigInteger)
    rows = await session_of(uow).execute(
        select(Sale.branch_id, day, func.count(Sale.id), func.sum(satang))
        .where(*_recent(branch_id, shop_days_start(now, tz, days), now))
        .group_by(Sale.branch_id, day)
    )
    today = now.astimezone(tz).date()
    window = [today - timedelta(days=back) for back in range(days - 1, -1, -1)]
    per: dict[int | None, dict[date, tuple[int, int]]] = {}
    for branch, when, count, total in rows:
        per.setdefault(branch, {})[_day(when)] = (int(count), int(total or 0))
    names = await _names(uow, list(per))
    found = [
        BranchDays(
            names[b],
            [
                DaySales(d, by_day.get(d, (0, 0))[0], _baht(by_day.get(d, (0, 0))[1]))
                for d in window
            ],
        )
        for b, by_day in per.items()
    ]
    return sorted(found, key=lambda b: b.branch.code)


def _baht(satang: int) -> Decimal:
    return (Decimal(satang) / SATANG_PER_BAHT).quantize(Decimal("0.01"))


async def automation_campaigns(uow: UnitOfWork, limit: int = 12) -> list[Campaign]:
    """The automations' latest runs (one campaign per automation and period), newest first."""
    rows = await session_of(uow).execute(
        select(Campaign)
        .where(Campaign.kind != "campaign")
        .order_by(Campaign.id.desc())
        .limit(limit)
    )
    return list(rows.scalars())
