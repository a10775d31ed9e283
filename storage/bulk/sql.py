"""Statements the bulk import paths share: ids taken up front, look-ups of a whole batch of
keys, cached balances moved in one go.

``COPY`` and the driver's ``executemany`` (:mod:`storage.bulk`) return nothing, so an import
that needs the ids of the rows it inserts (the ledger entries point at them) takes them first:

- PostgreSQL: from the table's own id sequence, ``nextval`` once per row in one query. The
  ids are the database's to give, so concurrent writers (the running bot) never get the same
  one, and a rolled-back batch leaves only a gap, as an ordinary ``INSERT`` would.
- SQLite: ``max(id) + 1`` onwards, which is what SQLite itself does for an ``INTEGER PRIMARY
  KEY`` without ``AUTOINCREMENT``. It is safe because our engine starts every transaction with
  ``BEGIN IMMEDIATE`` (:func:`storage.db.create_engine`): nobody else can insert until the
  caller commits. (Without that lock a concurrent insert would make the caller's write fail on
  the primary key or the snapshot, never store a duplicate.)

:func:`add_to_balances` moves ``members.points_balance`` relatively (``+ delta``, so a sale
recorded in chat at the same moment is not overwritten), in one statement on PostgreSQL and
one driver ``executemany`` on SQLite.

:func:`is_among` is ``column IN (…)`` for a batch of a thousand keys with one bound value
instead of a thousand: a PostgreSQL array (``= ANY(:keys)``), a JSON array on SQLite
(``IN (SELECT value FROM json_each(:keys))``). SQLAlchemy renders an ordinary ``IN`` list anew
for every execution, one placeholder and cast per key, which cost an import more than the query.
Another condition beside it that an index covers may lure SQLite's planner into walking that
index instead: :func:`commonly_true` tells it not to.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from typing import Any, Protocol

from sqlalchemy import (
    ColumnElement,
    Dialect,
    Table,
    any_,
    bindparam,
    func,
    literal_column,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import BindParameter


class Bound(Protocol):
    """A connection, an engine or a session's bind: what tells the dialect."""

    @property
    def dialect(self) -> Dialect: ...


def is_among(
    connection: Bound, column: ColumnElement[Any], keys: Collection[str | int]
) -> ColumnElement[bool]:
    """``column IN keys`` with ``keys`` (strings or integers) bound as one value."""
    if connection.dialect.name == "postgresql":
        return column == any_(bindparam("keys", list(keys), type_=ARRAY(column.type), unique=True))
    as_json: BindParameter[str] = bindparam("keys", json.dumps(list(keys)), unique=True)
    listed = select(func.json_each(as_json).table_valued("value"))
    return column.in_(listed.scalar_subquery())


def commonly_true(connection: Bound, condition: ColumnElement[bool]) -> ColumnElement[bool]:
    """``condition``, told to SQLite's planner as true for most rows, so that beside
    :func:`is_among` it looks the listed keys up instead of walking an index of ``condition``
    (``status = 'pending'`` over a million pending rows, for a claim's few thousand ids)."""
    if connection.dialect.name == "sqlite":
        return func.likelihood(condition, literal_column("0.9375"))
    return condition


async def reserve_ids(connection: AsyncConnection, table: Table, count: int) -> list[int]:
    """``count`` unused ids of ``table`` for rows the caller inserts in this transaction."""
    if count <= 0:
        return []
    if connection.dialect.name == "postgresql":
        result = await connection.execute(
            text(
                "SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)"
            ),
            {"table": table.name, "n": count},
        )
        return [int(value) for value in result.scalars()]
    highest = (await connection.execute(select(func.coalesce(func.max(table.c.id), 0)))).scalar()
    first = int(highest or 0) + 1
    return list(range(first, first + count))


async def add_to_balances(connection: AsyncConnection, deltas: Mapping[int, int]) -> None:
    """``points_balance += delta`` for each member id in ``deltas``, in the open transaction."""
    if not deltas:
        return
    if connection.dialect.name == "postgresql":
        await connection.execute(
            text(
                "UPDATE members SET points_balance = members.points_balance + d.delta "
                "FROM unnest(CAST(:ids AS bigint[]), CAST(:deltas AS integer[])) AS d(id, delta) "
                "WHERE members.id = d.id"
            ),
            {"ids": list(deltas), "deltas": list(deltas.values())},
        )
        return
    raw = await connection.get_raw_connection()
    driver: Any = raw.driver_connection
    await connection.execute(text("SELECT 1"))  # the transaction must be open before the driver
    await driver.executemany(
        "UPDATE members SET points_balance = points_balance + ? WHERE id = ?",
        [(delta, member_id) for member_id, delta in deltas.items()],
    )
