from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

from sqlalchemy import Integer, Select, Update, bindparam, func, insert, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from bot.core.errors import DomainError
from storage import direct
from storage.models import Member, PointsEntry, table_of

_MEMBERS: Final = table_of(Member)
_ENTRIES: Final = table_of(PointsEntry)
# built once, of the tables (Core statements, no ORM layer): every sale and every welcome bonus
# runs them, the balance read twice a sale (before and after its credit)
_BALANCE: Final = select(_MEMBERS.c.points_balance).where(
    _MEMBERS.c.id == bindparam("member_id", type_=_MEMBERS.c.id.type)
)
_APPEND: Final = insert(_ENTRIES).returning(_ENTRIES.c.id)
_KEY_USED: Final = select(_ENTRIES.c.id).where(_ENTRIES.c.idempotency_key == bindparam("key"))
#: the balance moved by ``delta``, and the new balance; :data:`_DEBIT` only while it covers
#: ``needed``
_MOVE: Final = (
    update(_MEMBERS)
    .where(_MEMBERS.c.id == bindparam("member_id", type_=_MEMBERS.c.id.type))
    .values(points_balance=_MEMBERS.c.points_balance + bindparam("delta", type_=Integer))
    .returning(_MEMBERS.c.points_balance)
)
_DEBIT: Final = _MOVE.where(_MEMBERS.c.points_balance >= bindparam("needed", type_=Integer))
_ENTRY_COLUMNS: Final = (
    "member_id",
    "delta",
    "reason",
    "sale_id",
    "note",
    "earned_at",
    "created_at",
    "idempotency_key",
)


def _move_and_append(move: Update) -> Select[Any]:
    """PostgreSQL: ``move`` and the entry's INSERT in one statement (an INSERT from the
    UPDATE's row, both CTEs): the entry's id and the new balance, no row when ``move`` moved
    nothing. The entry's values are the parameters named as its columns."""
    moved = move.cte("moved")
    values = [bindparam(name, type_=_ENTRIES.c[name].type) for name in _ENTRY_COLUMNS]
    entry = (
        insert(_ENTRIES)
        .from_select(list(_ENTRY_COLUMNS), select(*values).select_from(moved))
        .returning(_ENTRIES.c.id)
        .cte("entry")
    )
    return select(entry.c.id, moved.c.points_balance).join_from(entry, moved, true())


#: built once: PostgreSQL's one trip for a new sale's or member's credit
#: (:meth:`PointsLedger.append_new`)
_PG_CREDIT: Final = _move_and_append(_MOVE)
#: SQLite's entry of such a credit, sent along with the balance's UPDATE: every column named
_ALONG_APPEND: Final = insert(_ENTRIES).values(
    direct.named_parameters(_ENTRIES, direct.written_columns(_ENTRIES))
)


def _entry(
    member_id: int,
    delta: int,
    reason: str,
    now: datetime,
    earned_at: datetime | None,
    sale_id: int | None,
    note: str | None,
    idempotency_key: str | None,
) -> dict[str, Any]:
    """An entry's values by column (:data:`_ENTRY_COLUMNS`), earned ``now`` unless said."""
    values = {"member_id": member_id, "delta": delta, "reason": reason, "sale_id": sale_id}
    values |= {"note": note, "earned_at": earned_at or now, "created_at": now}
    values["idempotency_key"] = idempotency_key
    return values


class InsufficientPoints(DomainError):
    key = "error.insufficient_points"


class PointsLedger:
    """Append-only points entries; there is no update or delete of an entry here on purpose.

    Every entry also moves ``members.points_balance`` in the same transaction, and a debit does
    so with a conditional update (``WHERE points_balance >= n``): two concurrent redemptions on
    SQLite or PostgreSQL cannot both spend the same points, and a balance is never negative.
    """

    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def append(
        self,
        member_id: int,
        delta: int,
        reason: str,
        now: datetime,
        earned_at: datetime | None = None,
        sale_id: int | None = None,
        note: str | None = None,
        idempotency_key: str | None = None,
        allow_negative: bool = False,
    ) -> PointsEntry | None:
        """Append one entry; None when ``idempotency_key`` was already used (nothing changes).

        Raises :class:`InsufficientPoints` for a debit larger than the balance, unless
        ``allow_negative`` (a voided sale whose points were already spent may leave a debt).
        """
        if idempotency_key is not None and await self._key_used(idempotency_key):
            return None
        values = _entry(member_id, delta, reason, now, earned_at, sale_id, note, idempotency_key)
        entry, _ = await self._write(values, allow_negative)
        return entry

    async def append_new(
        self,
        member_id: int,
        delta: int,
        reason: str,
        now: datetime,
        *,
        idempotency_key: str,
        earned_at: datetime | None = None,
        sale_id: int | None = None,
    ) -> int:
        """Credit ``delta`` (> 0) under a key nobody can have used yet (that of a sale or a
        member written in this transaction), without looking the key up; the new balance.
        The key's unique index still refuses a second entry. On PostgreSQL the balance's
        UPDATE and the entry's INSERT are one statement."""
        values = _entry(member_id, delta, reason, now, earned_at, sale_id, None, idempotency_key)
        if self._s.get_bind().dialect.name != "postgresql":
            # SQLite: the entry (its id is not asked for) travels with the balance's UPDATE
            if await direct.along(self._s, _ALONG_APPEND, values):
                moved = await direct.rows(self._s, _MOVE, {"member_id": member_id, "delta": delta})
                if moved:
                    self._in_step(member_id, moved[0][0])
                    return int(moved[0][0])
                raise InsufficientPoints(balance=await self.balance(member_id), needed=-delta)
            _, balance = await self._write(values, allow_negative=True)
            return balance
        # on asyncpg once the transaction has begun (storage/direct.py)
        [(_, balance)] = await direct.fetch_all(self._s, _PG_CREDIT, values)
        self._in_step(member_id, balance)
        return int(balance)

    async def _write(self, values: dict[str, Any], allow_negative: bool) -> tuple[PointsEntry, int]:
        """Move the member's balance by the entry's delta and append the entry; the entry and
        the balance after it."""
        member_id, delta = values["member_id"], values["delta"]
        moved = {"member_id": member_id, "delta": delta}
        if delta < 0 and not allow_negative:
            result = await self._s.execute(_DEBIT, moved | {"needed": -delta})
        else:
            result = await self._s.execute(_MOVE, moved)
        balance = result.scalar_one_or_none()
        if balance is None:
            raise InsufficientPoints(balance=await self.balance(member_id), needed=-delta)
        # a Core INSERT, not an object for the session to flush: the entry returned is not the
        # session's (an entry is never changed once written)
        entry_id = (await self._s.execute(_APPEND, values)).scalar_one()
        self._in_step(member_id, balance)
        return PointsEntry(id=entry_id, **values), int(balance)

    def _in_step(self, member_id: int, balance: int) -> None:
        """Keep a loaded Member in step with the row (as a refresh would)."""
        member = self._s.identity_map.get(identity_key(Member, member_id))
        if member is not None:
            set_committed_value(member, "points_balance", balance)

    async def _key_used(self, key: str) -> bool:
        return bool(await direct.fetch_all(self._s, _KEY_USED, {"key": key}))  # SQLite: driver

    async def locked_balance(self, member_id: int) -> int:
        """The balance, with the member's row locked until the transaction ends (PostgreSQL;
        SQLite's transactions hold the database's write lock from their start): debits and
        credits of other transactions wait, so the ledger read next is the one debited."""
        result = await self._s.execute(
            select(Member.points_balance).where(Member.id == member_id).with_for_update()
        )
        return int(result.scalar_one_or_none() or 0)

    async def balance(self, member_id: int) -> int:
        """The cached balance (always equal to :meth:`ledger_sum`)."""
        found = await direct.fetch_all(self._s, _BALANCE, {"member_id": member_id})
        return int(found[0][0] or 0) if found else 0

    async def ledger_sum(self, member_id: int) -> int:
        result = await self._s.execute(
            select(func.coalesce(func.sum(PointsEntry.delta), 0)).where(
                PointsEntry.member_id == member_id
            )
        )
        return int(result.scalar_one())

    async def entries(self, member_id: int) -> Sequence[PointsEntry]:
        result = await self._s.execute(
            select(PointsEntry)
            .where(PointsEntry.member_id == member_id)
            .order_by(PointsEntry.earned_at, PointsEntry.id)
        )
        return result.scalars().all()

    async def latest(self, member_id: int, limit: int = 20) -> Sequence[PointsEntry]:
        """A member's newest ledger entries, newest first (``/history``, the console's member
        page)."""
        result = await self._s.execute(
            select(PointsEntry)
            .where(PointsEntry.member_id == member_id)
            .order_by(PointsEntry.created_at.desc(), PointsEntry.id.desc())
            .limit(limit)
        )
        return result.scalars().all()
