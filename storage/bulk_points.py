"""Crediting many ledger entries at once (bulk imports), with the cached balances kept in step.

This is one of the two places besides :meth:`storage.repositories.points.PointsLedger.append`
that move ``members.points_balance`` (the other, :mod:`bot.importing.opening`, writes a new
member's opening balance with the member row and its ledger entry in one transaction). An
import of tens of thousands of rows cannot afford
``append``'s three round-trips per entry, so here the entries of a whole batch go in with one
executemany ``INSERT`` and the balances move with one executemany ``UPDATE … SET
points_balance = points_balance + :delta`` (relative, so a sale recorded in chat at the same
moment is not overwritten), in the caller's transaction. Only credits are accepted: a credit
can never take a balance below zero, so no conditional update is needed.

Idempotency keys are checked with one ``IN`` query; an entry whose key exists is left out, so
re-running an import adds nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.models import Member, PointsEntry, table_of

_LEDGER = table_of(PointsEntry)
_MEMBERS = table_of(Member)


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
    keys = [credit.idempotency_key for credit in wanted]
    used = set(
        (
            await connection.execute(
                select(_LEDGER.c.idempotency_key).where(_LEDGER.c.idempotency_key.in_(keys))
            )
        ).scalars()
    )
    fresh: dict[str, Credit] = {}
    for credit in wanted:  # the same key twice in one batch counts once, like append()
        if credit.idempotency_key not in used:
            fresh.setdefault(credit.idempotency_key, credit)
    if not fresh:
        return 0
    await connection.execute(
        insert(_LEDGER),
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
    await connection.execute(
        update(_MEMBERS)
        .where(_MEMBERS.c.id == bindparam("member"))
        .values(points_balance=_MEMBERS.c.points_balance + bindparam("delta")),
        [{"member": member_id, "delta": delta} for member_id, delta in deltas.items()],
    )
    return len(fresh)
