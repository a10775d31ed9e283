"""Crediting many ledger entries at once (bulk imports), with the cached balances kept in step.

This is one of the two places besides :meth:`storage.repositories.points.PointsLedger.append`
that move ``members.points_balance`` (the other is a new member's opening balance, written by
the import with the member row; :func:`enter_openings` adds its ledger entry in the same
transaction). An import of tens of thousands of rows cannot afford ``append``'s three
round-trips per entry, so here the entries of a whole batch go in through the driver's bulk
path (:func:`storage.bulk.bulk_insert`) and the balances move with one relative update
(:func:`storage.bulk.sql.add_to_balances`: ``points_balance + delta``, so a sale recorded in
chat at the same moment is not overwritten), in the caller's transaction. Only credits are
accepted: a credit can never take a balance below zero, so no conditional update is needed.

:func:`credit_many` checks the idempotency keys with one ``IN`` query; an entry whose key
exists is left out, so re-running an import adds nothing. :func:`credit_fresh` skips that
query for keys that cannot exist yet (``sale:<id>`` of sales inserted in the same
transaction).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.bulk import bulk_insert
from storage.bulk.sql import add_to_balances, is_among
from storage.models import PointsEntry, table_of

_LEDGER = table_of(PointsEntry)


@dataclass(frozen=True, slots=True)
class Credit:
    member_id: int
    points: int
    reason: str
    idempotency_key: str
    earned_at: datetime
    sale_id: int | None = None
    note: str | None = None


async def credit_many(connection: AsyncConnection, credits: Sequence[Credit], now: datetime) -> int:
    """Append the credits whose idempotency key is new; returns how many were appended."""
    wanted = [credit for credit in credits if credit.points > 0]
    if any(credit.points < 0 for credit in credits):
        raise ValueError("credit_many only credits points; debits go through PointsLedger")
    if not wanted:
        return 0
    used = await used_keys(connection, [credit.idempotency_key for credit in wanted])
    return await credit_fresh(connection, [c for c in wanted if c.idempotency_key not in used], now)


async def used_keys(connection: AsyncConnection, keys: Collection[str]) -> set[str]:
    """Those of ``keys`` some ledger entry already has as its idempotency key: one query."""
    result = await connection.execute(
        select(_LEDGER.c.idempotency_key).where(
            is_among(connection, _LEDGER.c.idempotency_key, keys)
        )
    )
    return set(result.scalars())


async def credit_fresh(
    connection: AsyncConnection, credits: Sequence[Credit], now: datetime
) -> int:
    """Append ``credits`` without looking their keys up: the caller knows none is in the ledger
    (a key repeated within ``credits`` still counts once). Returns how many were appended."""
    if any(credit.points < 0 for credit in credits):
        raise ValueError("credits only credit points; debits go through PointsLedger")
    fresh: dict[str, Credit] = {}
    for credit in credits:  # the same key twice in one batch counts once, like append()
        if credit.points > 0:
            fresh.setdefault(credit.idempotency_key, credit)
    if not fresh:
        return 0
    await bulk_insert(
        connection,
        _LEDGER,
        [
            {
                "member_id": credit.member_id,
                "delta": credit.points,
                "reason": credit.reason,
                "sale_id": credit.sale_id,
                "note": credit.note,
                "earned_at": credit.earned_at,
                "created_at": now,
                "idempotency_key": credit.idempotency_key,
            }
            for credit in fresh.values()
        ],
    )
    deltas: dict[int, int] = {}
    for credit in fresh.values():
        deltas[credit.member_id] = deltas.get(credit.member_id, 0) + credit.points
    await add_to_balances(connection, deltas)
    return len(fresh)


async def enter_openings(
    connection: AsyncConnection,
    openings: Iterable[tuple[int, int, str]],
    reason: str,
    now: datetime,
) -> None:
    """A ledger entry ``reason``, earned ``now``, per (member id, points, idempotency key) whose
    points the member row was inserted with: no balance moves (the balance already counts
    them). The caller knows none of the keys is in the ledger (:func:`used_keys`)."""
    await bulk_insert(
        connection,
        _LEDGER,
        [
            {
                "member_id": member_id,
                "delta": points,
                "reason": reason,
                "sale_id": None,
                "note": None,
                "earned_at": now,
                "created_at": now,
                "idempotency_key": key,
            }
            for member_id, points, key in openings
        ],
    )
