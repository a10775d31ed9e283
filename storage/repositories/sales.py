"""Sales as the counter records and voids them, and the spend a member's tier is read from.

Never commits: the unit of work does (``shop.ledger`` holds the rules).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Any, Final, NamedTuple

from sqlalchemy import (
    LABEL_STYLE_TABLENAME_PLUS_COL,
    Integer,
    Select,
    String,
    bindparam,
    exists,
    func,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.sql.dml import Insert

from storage import direct
from storage.core_writes import CoreWrites
from storage.models import Branch, Member, PointsEntry, Sale, table_of
from storage.repositories.arrival import attached


def _spend_and_ledger_statement() -> Select[Any]:
    sales = Sale.__table__.c  # the sum keeps the column's Money type: it comes back in baht
    member_id = bindparam("member_id", type_=Integer)
    spend = (
        select(func.coalesce(func.sum(sales.amount), 0))
        .where(
            sales.member_id == member_id,
            sales.voided_at.is_(None),
            sales.occurred_at >= bindparam("since"),
        )
        .scalar_subquery()
    )
    ledger = PointsEntry.__table__.c
    members, entries = table_of(Member), table_of(PointsEntry)
    # tables, not mapped classes: the session runs a Core statement without the ORM's layer
    # (compile state, result set-up), its autoflush kept
    return (
        select(
            spend.label("spend"),
            members.c.tier.label("held"),
            ledger.id,
            ledger.delta,
            ledger.reason,
            ledger.sale_id,
            ledger.earned_at,
        )
        .select_from(members)
        .outerjoin(entries, ledger.member_id == members.c.id)
        .where(members.c.id == member_id)
        .order_by(ledger.earned_at, ledger.id)
    )


class LedgerRow(NamedTuple):
    """A row of :data:`SPEND_AND_LEDGER`: the spend, the tier the review last gave the member,
    then a ledger entry (the one row of a member without entries holds None in the entry's
    columns; it is never returned)."""

    spend: Decimal
    held: str | None
    id: int
    delta: int
    reason: str
    sale_id: int | None
    earned_at: datetime


#: built once (building it costs more Python than running it)
SPEND_AND_LEDGER: Final = _spend_and_ledger_statement()
#: built once: a sale whose receipt is taken looks the sale at its branch up
_BY_RECEIPT: Final = select(Sale).where(
    Sale.receipt_no == bindparam("receipt_no"), Sale.branch_id == bindparam("branch_id")
)
#: a receipt number at every branch that printed it, in branch order (/void)
_AT_EVERY_BRANCH: Final = (
    select(Sale).where(Sale.receipt_no == bindparam("receipt_no")).order_by(Sale.branch_id)
)
_SALES: Final = table_of(Sale)
_HAS_SALES: Final = (
    select(_SALES.c.id)
    .where(_SALES.c.member_id == bindparam("member_id"), _SALES.c.voided_at.is_(None))
    .limit(1)
)


def _before_sale_statement() -> Select[Any]:
    """What a new sale needs to know of its member before it is written, in one statement:
    the spend since ``since`` (the tier the sale earns at), whether any live sale exists (a
    first purchase pays a referral), and the points balance."""
    sales, members = _SALES.c, table_of(Member).c
    member_id = bindparam("member_id", type_=Integer)
    live = (sales.member_id == member_id, sales.voided_at.is_(None))
    spend = (
        select(func.coalesce(func.sum(sales.amount), 0))
        .where(*live, sales.occurred_at >= bindparam("since"))
        .scalar_subquery()
    )
    return select(
        spend.label("spend"), exists().where(*live).label("bought"), members.points_balance
    ).where(members.id == member_id)


#: built once: every sale runs it
_BEFORE_SALE: Final = _before_sale_statement()


class BeforeSale(NamedTuple):
    """A member's figures just before a new sale is written (:meth:`Sales.before_sale`)."""

    spend: Decimal
    #: the member has a sale that was not voided
    bought: bool
    balance: int


#: the columns a new sale is written with (every column but its id)
_SALE_COLUMNS: Final = direct.written_columns(_SALES)


@cache
def _insert_sale(dialect: str) -> Insert:
    """``INSERT INTO sales … ON CONFLICT (receipt_no, branch_id) DO NOTHING RETURNING id``,
    built once."""
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    return (
        insert(_SALES)
        .values(direct.named_parameters(_SALES, _SALE_COLUMNS))
        .on_conflict_do_nothing(index_elements=[_SALES.c.receipt_no, _SALES.c.branch_id])
        .returning(_SALES.c.id)
    )


class Sales:
    def __init__(self, session: AsyncSession, writes: CoreWrites | None = None) -> None:
        self._s = session
        #: where a written sale is told, so a savepoint rolling it back takes it out of the session
        self._writes = writes or CoreWrites(session)

    async def by_receipt(self, receipt_no: str, branch_id: int) -> Sale | None:
        """The sale with ``receipt_no`` at branch ``branch_id`` (each till numbers its own)."""
        params = {"receipt_no": receipt_no, "branch_id": branch_id}
        result = await self._s.execute(_BY_RECEIPT, params)
        return result.scalar_one_or_none()

    async def at_every_branch(self, receipt_no: str) -> list[Sale]:
        """The sales with ``receipt_no``, one per branch that printed it, in branch order."""
        result = await self._s.execute(_AT_EVERY_BRANCH, {"receipt_no": receipt_no})
        return list(result.scalars())

    async def points_earned(self, sale_id: int) -> int:
        """The points the sale earned (its ``sale:<id>`` entry; 0 when it earned none)."""
        result = await self._s.execute(
            select(PointsEntry.delta).where(PointsEntry.idempotency_key == f"sale:{sale_id}")
        )
        return int(result.scalar_one_or_none() or 0)

    async def has_sales(self, member_id: int) -> bool:
        """Whether the member has any sale that was not voided."""
        result = await self._s.execute(_HAS_SALES, {"member_id": member_id})
        return result.first() is not None

    async def before_sale(self, member_id: int, since: datetime) -> BeforeSale:
        """The member's spend since ``since``, whether they have a live sale, and their points
        balance, in one statement (SQLite: on the driver)."""
        params = {"member_id": member_id, "since": since}
        found = await direct.fetch_all(self._s, _BEFORE_SALE, params)
        spend, bought, balance = found[0] if found else (0, False, 0)
        return BeforeSale(Decimal(spend).quantize(Decimal("0.01")), bool(bought), int(balance))

    async def at_counter(
        self,
        *,
        code: str | None,
        phone: str | None,
        since: datetime,
        branch_id: int | None = None,
        branch_code: str | None = None,
    ) -> AtCounter:
        """In one statement (on the driver once the transaction has begun), what a sale at the
        counter reads: the member with member code ``code``, else with number ``phone``; the
        branch ``branch_id``, else the branch ``branch_code`` (as stored: lower case), else
        the open branches; the member's figures before the sale (:meth:`before_sale`'s, for
        ``since``). The member and branches are the session's objects, as a query of them
        gives (one the session holds is that one)."""
        by = "id" if branch_id is not None else "code" if branch_code is not None else "active"
        params = {
            "code": code,
            "phone": phone,
            "since": since,
            "branch_id": branch_id,
            "branch_code": branch_code,
        }
        found = await direct.fetch_all(self._s, _at_counter(by), params)
        return _at_counter_rows(self._s, self._writes, found)

    async def add_unless_taken(self, sale: Sale) -> bool:
        """Write ``sale`` (every column given, but its id); False (nothing written) when its
        receipt number is already taken at its branch, e.g. by another transaction recording it
        at the same moment, which on PostgreSQL this one waits for (any other integrity error is
        raised).

        One Core INSERT … ON CONFLICT DO NOTHING naming every column (on the driver once the
        transaction has begun): no savepoint, no flush of the session; the written ``sale``
        then joins the session as the stored row (its id set)."""
        values = {key: getattr(sale, key) for key in _SALE_COLUMNS}
        for key, value in values.items():  # every column loaded: none to expire once stored
            setattr(sale, key, value)
        statement = _insert_sale(self._s.get_bind().dialect.name)
        found = await direct.fetch_all(self._s, statement, values)  # on the driver once begun
        if not found:
            return False
        [(sale_id,)] = found
        sale.id = sale_id
        make_transient_to_detached(sale)
        self._s.add(sale)  # persistent as written: nothing left to flush
        self._writes.inserted(sale)
        return True

    async def mark_voided(self, sale: Sale, now: datetime, staff_id: int) -> bool:
        """Void ``sale`` unless it is voided already; True when this call did it (one
        conditional update, so of two simultaneous voids one wins). ``sale`` is re-read."""
        marked = await self._s.execute(
            update(Sale)
            .where(Sale.id == sale.id, Sale.voided_at.is_(None))
            .values(voided_at=now, voided_by_staff_id=staff_id)
            .execution_options(synchronize_session=False)
        )
        if marked.rowcount != 1:  # type: ignore[attr-defined]
            return False
        await self._s.refresh(sale)
        return True

    async def spend_and_ledger(
        self, member_id: int, since: datetime
    ) -> tuple[Decimal, list[LedgerRow]]:
        """The spend of non-voided sales since ``since`` and the member's ledger (see
        :meth:`standing`)."""
        _, total, rows = await self.standing(member_id, since)
        return total, rows

    async def standing(
        self, member_id: int, since: datetime
    ) -> tuple[str | None, Decimal, list[LedgerRow]]:
        """``Member.tier`` (the tier the review last gave), the spend of non-voided sales since
        ``since`` and the member's ledger, in one statement: rows of ``(id, delta, reason,
        sale_id, earned_at)`` in ``earned_at`` order.

        /points runs on every tap, so this is one round trip instead of three: the member's row
        outer-joined to its ledger entries (a member without entries still yields one row), with
        the spend as a scalar subquery on every row. Only the columns the lots need are read.
        """
        params = {"member_id": member_id, "since": since}
        found = await direct.fetch_all(self._s, SPEND_AND_LEDGER, params)  # SQLite: on the driver
        rows = [LedgerRow._make(row) for row in found]
        total = Decimal(rows[0].spend if rows else 0).quantize(Decimal("0.01"))
        held = rows[0].held if rows else None
        return held, total, [row for row in rows if row.id is not None]


class AtCounter(NamedTuple):
    """What :meth:`Sales.at_counter` read: the member (None when none is named), the branches
    the sale may be at (by the filter asked for, in id order), and the member's figures before
    the sale (None with no member)."""

    member: Member | None
    branches: list[Branch]
    before: BeforeSale | None


_MEMBERS: Final = table_of(Member)
_BRANCHES: Final = table_of(Branch)


@cache
def _at_counter(branches_by: str) -> Select[Any]:
    """The member a cashier named (by member code before phone, as ``find_member`` looks),
    outer-joined to the branches ``branches_by`` picks (``id``, ``code`` or ``active``), with
    the member's spend since ``since`` and whether a live sale exists on every row."""
    members, sales, lookup = _MEMBERS.c, _SALES.c, _MEMBERS.alias("named").c
    by_code = select(lookup.id).where(lookup.member_code == bindparam("code", type_=String))
    by_phone = select(lookup.id).where(lookup.phone == bindparam("phone", type_=String))
    named = func.coalesce(by_code.scalar_subquery(), by_phone.scalar_subquery())
    live = (sales.member_id == members.id, sales.voided_at.is_(None))
    spend = (
        select(func.coalesce(func.sum(sales.amount), 0))
        .where(*live, sales.occurred_at >= bindparam("since"))
        .scalar_subquery()
    )
    picks = {
        "id": _BRANCHES.c.id == bindparam("branch_id", type_=Integer),
        "code": _BRANCHES.c.code == bindparam("branch_code", type_=String),
        "active": _BRANCHES.c.active.is_(True),
    }
    return (
        select(*_MEMBERS.c, *_BRANCHES.c, spend.label("spend"), exists().where(*live))
        .set_label_style(LABEL_STYLE_TABLENAME_PLUS_COL)
        .select_from(_MEMBERS.outerjoin(_BRANCHES, picks[branches_by]))
        .where(members.id == named)
        .order_by(_BRANCHES.c.id)
    )


def _at_counter_rows(session: AsyncSession, writes: CoreWrites, found: Sequence[Any]) -> AtCounter:
    """:class:`AtCounter` of :func:`_at_counter`'s rows, its objects the session's."""
    if not found:
        return AtCounter(None, [], None)
    members, branches = len(_MEMBERS.c), len(_BRANCHES.c)
    first = found[0]
    values = dict(zip(_MEMBERS.c.keys(), first[:members], strict=True))
    member = attached(session, writes, Member, values)
    picked = [
        attached(session, writes, Branch, dict(zip(_BRANCHES.c.keys(), branch, strict=True)))
        for row in found
        if (branch := row[members : members + branches])[0] is not None
    ]
    spend, bought = first[-2:]
    balance = int(values["points_balance"])  # as read now, whatever a held object shows
    before = BeforeSale(Decimal(spend).quantize(Decimal("0.01")), bool(bought), balance)
    return AtCounter(member, picked, before)
