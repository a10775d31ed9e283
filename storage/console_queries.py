"""The web console's own reads: branch-scoped overview numbers and the member list.

Every query takes ``branch_id``: None is the whole shop; a branch limits members to those
whose home branch it is and sales to those made there (a manager of one branch sees only it).
A branch's active members are those who bought there in the window, wherever their home is:
a member of Asoke buying at Sukhumvit is one of Sukhumvit's customers that month, so each
active member of the shop is active at some branch (``/report`` counts them alike).

The member list is keyset-paginated by id (``id > after``, the primary key's order): a page
deep in a million members costs what the first page costs, where OFFSET would read and
discard every row before it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, String, cast, func, or_, select
from sqlalchemy.sql.expression import ColumnElement, type_coerce

from storage.db import READ_ONLY
from storage.models import Branch, Member, Sale
from storage.name_search import name_contains
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


def shop_days_start(now: datetime, tz: ZoneInfo, days: int) -> datetime:
    """The first instant of the last ``days`` shop days, today's included: the midnight, in
    ``tz``, that opens the first day a per-day chart of ``days`` days shows (not ``days`` × 24
    hours back, which starts part-way through the day before it)."""
    today = now.astimezone(tz).date()
    return datetime.combine(today - timedelta(days=days - 1), time(), tz)


async def _window(
    uow: UnitOfWork, now: datetime, since: datetime, days: int, branch_id: int | None
) -> Window:
    s = session_of(uow)
    recent = _sales_of(branch_id, since, now)
    new = (
        await s.execute(
            select(func.count(Member.id)).where(*_members_of(branch_id), Member.joined_at >= since)
        )
    ).scalar_one()
    # EXISTS per member: one probe of the (member, time) index each, no DISTINCT over sales;
    # active at a branch: bought there (``recent`` is the branch's), whatever the home branch
    has_sale = select(Sale.id).where(Sale.member_id == Member.id, *recent).exists()
    active = (
        await s.execute(select(func.count(Member.id)).where(*_members_of(None), has_sale))
    ).scalar_one()
    satang = type_coerce(Sale.amount, BigInteger)
    count, total = (
        await s.execute(select(func.count(Sale.id), func.sum(satang)).where(*recent))
    ).one()
    return Window(days, int(new), int(active), int(count), _baht(total))


async def _by_branch(
    uow: UnitOfWork, now: datetime, since: datetime, branch_id: int | None
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
        .where(*_sales_of(branch_id, since, now))
        .group_by(Branch.id, Branch.code, Branch.name_th, Branch.name_en)
    )
    found = [BranchRevenue(r[0], r[1], r[2], r[3], int(r[4]), _baht(r[5])) for r in rows]
    return sorted(found, key=lambda b: (-b.revenue, b.code))


async def overview(
    uow: UnitOfWork, now: datetime, tz: ZoneInfo, days: Sequence[int], branch_id: int | None
) -> Overview:
    """Members, points held and, per window of ``days`` shop days (today's included, as the
    per-day chart shows them), new and active members and sales."""
    members, points = (
        await session_of(uow).execute(
            select(func.count(Member.id), func.coalesce(func.sum(Member.points_balance), 0)).where(
                *_members_of(branch_id)
            )
        )
    ).one()
    windows = [await _window(uow, now, shop_days_start(now, tz, d), d, branch_id) for d in days]
    by_branch = await _by_branch(uow, now, shop_days_start(now, tz, max(days)), branch_id)
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
    upto: int | None = None,
) -> MemberPage:
    """Live members with id > ``after`` in id order, matching what is given: a part of the
    name (any case), an E.164 ``phone``, a member ``code`` (either of the last two: exact),
    and a segment ``rule`` (compiled, correlated on ``members.id``): walking the primary key
    and testing each member stops at the page's last row, where ``id IN (segment)`` would
    build the whole segment first. ``upto``: only ids up to it."""
    query = select(Member).where(*_members_of(branch_id), Member.id > after)
    if upto is not None:
        query = query.where(Member.id <= upto)
    if rule is not None:
        query = query.where(rule)
    matches: list[ColumnElement[bool]] = []
    if name:
        matches.append(name_contains(Member.name, name))
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


#: members (by id) the page walks beside the count before it knows the count: a rule that
#: fills a page from so few members is found at once; one that does not waits for the count
HEAD_START: Final = 10_000
#: a count below it brings its members' ids along (:func:`member_tally`), or reads the rest of
#: its page by the count's own plan: walking, so few members would be found only by reading
#: nearly every member, one probe each
FEW: Final = 200


async def member_tally(
    uow: UnitOfWork, branch_id: int | None, rule: ColumnElement[bool]
) -> tuple[int, list[int] | None]:
    """What :func:`member_count` counts, and the ids it counted (ascending) when they are
    fewer than :data:`FEW`: the same pass over the segment answers its page too."""
    s = session_of(uow)
    if s.get_bind().dialect.name == "postgresql":
        ids = func.string_agg(cast(Member.id, String), ",")
    else:
        ids = func.group_concat(Member.id)
    query = select(func.count(Member.id), ids).where(*_members_of(branch_id), rule)
    size, joined = (await s.execute(query)).one()
    if int(size) >= FEW:
        return int(size), None
    return int(size), sorted(int(found) for found in (joined or "").split(",") if found)


async def page_and_count(
    uows: Callable[[], UnitOfWork],
    branch_id: int | None,
    rule: ColumnElement[bool],
    after: int,
    limit: int,
    walking: ColumnElement[bool] | None = None,
) -> tuple[MemberPage, int]:
    """A filtered page and the filter's count, each in its own read-only unit of work (its
    own connection), at the same time: the wait is the longer of the two — the count on a big
    shop — not their sum. ``walking`` is the same rule compiled for the page
    (``SegmentEnv.walking``: totals probed per member read); None: ``rule``.

    Beside the count the page walks only the next :data:`HEAD_START` members: walking, a rule
    that matches almost no one would read every member at the count's side and take the
    machine's other core for as long. When those fill the page, the count goes on alone.
    When they do not (the walk probes each member's totals, so it ends long before the count),
    the count just begun is stopped and run again as :func:`member_tally`, whose one pass
    brings the ids of a segment below :data:`FEW`: the page is read by id, not found by a
    second pass over every member or over the segment. The count is not a tally from the
    start: gathering a large segment's ids slows its count on PostgreSQL (bench/RESULTS.md).
    Otherwise the rest is read once the count is known, and not at all when it is 0."""
    members = _Members(uows, branch_id, rule, rule if walking is None else walking)
    head = after + HEAD_START
    paging = asyncio.ensure_future(members.page(after, limit, head, walking=True))
    counting = asyncio.ensure_future(members.count())
    try:
        await asyncio.wait((paging, counting), return_when=asyncio.FIRST_COMPLETED)
        if not counting.done():
            first = paging.result()  # the page's failure is the caller's
            if first.next_after is not None:
                return first, (await counting)[0]
            await _stopped(counting)
            counting = asyncio.ensure_future(members.count(tally=True))
        size, ids = await counting
    except BaseException:  # a failure or the caller's cancellation: neither goes on alone
        await _stopped(paging, counting)
        raise
    if size == 0:
        await _stopped(paging)
        return MemberPage([], None), 0
    first = await paging
    if first.next_after is not None or (after == 0 and len(first.members) >= size):
        return first, size
    if ids is not None:
        return await members.page(after, limit, None, walking=False, ids=ids), size
    rest = await members.page(head, max(1, limit - len(first.members)), None, size >= FEW)
    return _joined(first, rest, limit), size


@dataclass(slots=True)
class _Members:
    """The reads of :func:`page_and_count`, each in a read-only unit of work of its own."""

    uows: Callable[[], UnitOfWork]
    branch_id: int | None
    rule: ColumnElement[bool]
    walking_rule: ColumnElement[bool]

    async def page(
        self,
        start: int,
        size: int,
        upto: int | None,
        walking: bool,
        ids: list[int] | None = None,
    ) -> MemberPage:
        """Members after ``start``: walking, by the count's plan, or among ``ids``."""
        by = self.walking_rule if walking else self.rule
        if ids is not None:
            by = Member.id.in_(ids)
        async with self.uows() as uow:
            await _reading(uow)
            return await member_page(uow, self.branch_id, start, size, rule=by, upto=upto)

    async def count(self, tally: bool = False) -> tuple[int, list[int] | None]:
        """The count, and the ids of a segment smaller than :data:`FEW` when it tallies."""
        async with self.uows() as uow:
            await _reading(uow)
            if tally:
                return await member_tally(uow, self.branch_id, self.rule)
            return await member_count(uow, self.branch_id, self.rule), None


def _joined(first: MemberPage, rest: MemberPage, limit: int) -> MemberPage:
    """The page read in two stretches of ids, ``first`` below ``rest``."""
    both = first.members + rest.members
    members = both[:limit]
    more = rest.next_after is not None or len(both) > limit
    return MemberPage(members, members[-1].id if more else None)


async def _reading(uow: UnitOfWork) -> None:
    """``uow`` only reads: on SQLite it takes no write lock. Two units of work that each took
    it would run one after the other (the second waits for the first to end), so the count
    could not even start before the page's walk ended, nor stop it."""
    await session_of(uow).connection(execution_options={READ_ONLY: True})


async def _stopped(*tasks: asyncio.Future[Any]) -> None:
    """``tasks`` cancelled and finished (their units of work rolled back, their connections
    back). The caller's own cancellation meanwhile is raised once they have finished: it
    does not cut their clean-up short, nor is it lost."""
    for task in tasks:
        task.cancel()
    cancelled: asyncio.CancelledError | None = None
    while not all(task.done() for task in tasks):
        try:
            await asyncio.wait(tasks)  # unlike awaiting a task, not cancelled with the caller
        except asyncio.CancelledError as error:
            cancelled = error
    for task in tasks:
        if not task.cancelled():
            task.exception()  # a failure while being stopped is nobody's answer any more
    if cancelled is not None:
        raise cancelled
