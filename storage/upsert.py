"""INSERT … ON CONFLICT DO NOTHING on both stores: the race-free way to create a row once."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Base, table_of


async def insert_once(
    session: AsyncSession,
    model: type[Base],
    values: dict[str, Any],
    conflict_columns: Sequence[str],
) -> bool:
    """Insert ``values`` unless a row with the same ``conflict_columns`` exists; True if inserted.

    Under concurrency the loser waits for the winner's commit (PostgreSQL) or for the write
    lock (SQLite) and then inserts nothing, instead of failing on the unique constraint.
    """
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    table = table_of(model)
    statement = (
        insert(table)
        .values(**values)
        .on_conflict_do_nothing(index_elements=list(conflict_columns))
        .returning(*[table.c[name] for name in conflict_columns])
    )
    return (await session.execute(statement)).first() is not None


async def insert_many_once(
    session: AsyncSession,
    model: type[Base],
    rows: Sequence[dict[str, Any]],
    conflict_columns: Sequence[str],
) -> None:
    """Insert each of ``rows`` unless a row with the same ``conflict_columns`` exists, in one
    statement (see :func:`insert_once`)."""
    if not rows:
        return
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(table_of(model))
        .values(list(rows))
        .on_conflict_do_nothing(index_elements=list(conflict_columns))
    )
    await session.execute(statement)
