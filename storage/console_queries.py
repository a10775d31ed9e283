"""The web console's own reads: branch-scoped overview numbers and the member list.

Every query takes ``branch_id``: None is the whole shop; a branch limits members to those
whose home branch it is and sales to those made there (a manager of one branch sees only it).

The member list is keyset-paginated by id (``id > after``, the primary key's order): a page
deep in a million members costs what the first page costs, where OFFSET would read and
discard every row before it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, func, or_, select
from sqlalchemy.sql.expression import ColumnElement, type_coerce

from storage.models import Branch, Member, Sale
from storage.raw_session import session_of
from storage.types import SATANG_PER_BAHT
from storage.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class Window:
    days: int
    new_members: int
    active_members: int
    sales: int
    revenue: Decimal


@dataclass(frozen=True, slots=True)
class BranchRevenue:
    branch_id: int
    code: str
    name_th: str
    name_en: str
    sales: int
    revenue: Decimal


@dataclass(frozen=True, slots=True)
class Overview:
    members: int
    points_outstanding: int
    windows: list[Window]
    #: the longest window's sales per branch, most revenue first
    by_branch: list[BranchRevenue]


def _baht(satang: int | None) -> Decimal:
    return (Decimal(int(satang or 0)) / SATANG_PER_BAHT).quantize(Decimal("0.01"))


def _members_of(branch_id: int | None) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [Member.erased_at.is_(None)]
    if branch_id is not None:
        where.append(Member.home_branch_id == branch_id)
    return where


def _sales_of(branch_id: int | None, since: datetime, now: datetime) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [
        Sale.occurred_at >= since,
        Sale.occurred_at <= now,
        Sale.voided_at.is_(None),
    ]
    if branch_id is not None:
        where.append(Sale.branch_id == branch_id)
    return where


async def _window(uow: UnitOfWork, now: datetime, days: int, branch_id: int | None) -> Window:
    s = session_of(uow)
    since = now - timedelta(days=days)
    recent = _sales_of(branch_id, since, now)
    new = (
        await s.execute(
            select(func.count(Member.id)).where(*_members_of(branch_id), Member.joined_at >= since)
        )
    ).scalar_one()
    # EXISTS per member: one probe of the (member, time) index each, no DISTINCT over sales
    has_sale = select(Sale.id).where(Sale.member_id == Member.id, *recent).exists()
    active = (
        await s.execute(select(func.count(Member.id)).where(*_members_of(branch_id), has_sale))
    ).scalar_one()
    satang = type_coerce(Sale.amount, BigInteger)
    count, total = (
        await s.execute(select(func.count(Sale.id), func.sum(satang)).where(*recent))
    ).one()
    return Window(days, int(new), int(active), int(count), _baht(total))


async def _by_branch(
    uow: UnitOfWork, now: datetime, days: int, branch_id: int | None
) -> list[BranchRevenue]:
    satang = type_coerce(Sale.amount, BigInteger)
    rows = await session_of(uow).execute(
        select(
            Branch.id,
            Branch.code,
            Branch.name_th,
            Branch.name_en,
            func.count(Sale.id),
            func.sum(satang),
        )
        .join(Sale, Sale.branch_id == Branch.id)
        .where(*_sales_of(branch_id, now - timedelta(days=days), now))
        .group_by(Branch.id, Branch.code, Branch.name_th, Branch.name_en)
    )
    found = [BranchRevenue(r[0], r[1], r[2], r[3], int(r[4]), _baht(r[5])) for r in rows]
    return sorted(found, key=lambda b: (-b.revenue, b.code))


async def overview(
    uow: UnitOfWork, now: datetime, days: Sequence[int], branch_id: int | None
) -> Overview:
    """Members, points held and, per window of ``days``, new and active members and sales."""
    members, points = (
        await session_of(uow).execute(
            select(func.count(Member.id), func.coalesce(func.sum(Member.points_balance), 0)).where(
                *_members_of(branch_id)
            )
        )
    ).one()
    windows = [await _window(uow, now, d, branch_id) for d in days]
    by_branch = await _by_branch(uow, now, max(days), branch_id)
    return Overview(int(members), int(points), windows, by_branch)


@dataclass(frozen=True, slots=True)
class MemberPage:
    members: list[Member]
    #: the ``after`` of the next page; None on the last one
    next_after: int | None


async def member_page(
    uow: UnitOfWork,
    branch_id: int | None,
    after: int = 0,
    limit: int = 50,
    *,
    name: str | None = None,
    phone: str | None = None,
    code: str | None = None,
    rule: ColumnElement[bool] | None = None,
) -> MemberPage:
    """Live members with id > ``after`` in id order, matching what is given: a part of the
    name (any case), an E.164 ``phone``, a member ``code`` (either of the last two: exact),
    and a segment ``rule`` (compiled, correlated on ``members.id``): walking the primary key
    and testing each member stops at the page's last row, where ``id IN (segment)`` would
    build the whole segment first."""
    query = select(Member).where(*_members_of(branch_id), Member.id > after)
    if rule is not None:
        query = query.where(rule)
    matches: list[ColumnElement[bool]] = []
    if name:
        matches.append(func.lower(Member.name).contains(name.lower(), autoescape=True))
    if phone:
        matches.append(Member.phone == phone)
    if code:
        matches.append(Member.member_code == code)
    if matches:
        query = query.where(or_(*matches))
    rows = list(
        (await session_of(uow).execute(query.order_by(Member.id).limit(limit + 1))).scalars()
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return MemberPage(rows, rows[-1].id if more else None)


async def member_count(uow: UnitOfWork, branch_id: int | None, rule: ColumnElement[bool]) -> int:
    """How many live members of the scope a compiled segment ``rule`` holds."""
    query = select(func.count(Member.id)).where(*_members_of(branch_id), rule)
    return int((await session_of(uow).execute(query)).scalar_one())


async def page_and_count(
    uows: Callable[[], UnitOfWork],
    branch_id: int | None,
    rule: ColumnElement[bool],
    after: int,
    limit: int,
    walking: ColumnElement[bool] | None = None,
) -> tuple[MemberPage, int]:
    """A filtered page and the filter's count, each in its own unit of work (its own
    connection), at the same time: the wait is the longer of the two — the count on a big
    shop — not their sum. ``walking`` is the same rule compiled for the page
    (``SegmentEnv.walking``: totals probed per member read); None: ``rule``. A count of 0
    ends the page at once: walking, it would read every member to find none."""

    async def one_page() -> MemberPage:
        async with uows() as uow:
            return await member_page(
                uow, branch_id, after, limit, rule=rule if walking is None else walking
            )

    async def count() -> int:
        async with uows() as uow:
            return await member_count(uow, branch_id, rule)

    paging = asyncio.ensure_future(one_page())
    try:
        size = await count()
    except BaseException:  # the count failed or was cancelled: the page goes with it
        await _stopped(paging)
        raise
    if size == 0:
        await _stopped(paging)
        return MemberPage([], None), 0
    return await paging, size


async def _stopped(task: asyncio.Future[Any]) -> None:
    """``task`` cancelled and finished (its unit of work rolled back, its connection back)."""
    task.cancel()
    with suppress(asyncio.CancelledError, Exception):
        await task
