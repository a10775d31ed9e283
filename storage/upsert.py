"""INSERT … ON CONFLICT DO NOTHING on both stores: the race-free way to create a row once."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.dml import Insert

from storage import direct
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
    dialect = session.get_bind().dialect.name
    if any(isinstance(value, ClauseElement) for value in values.values()):
        # a SQL expression as a value is part of the statement, not a parameter
        statement = _once(dialect, model, tuple(conflict_columns)).values(**values)
        return (await session.execute(statement)).first() is not None
    # the statement is built once and the values are the execution's parameters: building
    # ``.values(...)`` anew coerced every value and gave SQLAlchemy a new statement to key
    # (outbox rows and new identities come through here on the hot path); SQLAlchemy's
    # execution still fills in the columns' Python-side defaults the values leave out
    statement = _once(dialect, model, tuple(conflict_columns))
    return (await session.execute(statement, values)).first() is not None


@cache
def _once(dialect: str, model: type[Base], conflict_columns: tuple[str, ...]) -> Insert:
    """``INSERT … ON CONFLICT (conflict_columns) DO NOTHING RETURNING conflict_columns`` into
    ``model``'s table, without values (the caller gives them)."""
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    table = table_of(model)
    return (
        insert(table)
        .on_conflict_do_nothing(index_elements=list(conflict_columns))
        .returning(*[table.c[name] for name in conflict_columns])
    )


async def insert_named_once(
    session: AsyncSession,
    model: type[Base],
    values: dict[str, Any],
    conflict_columns: Sequence[str],
) -> bool:
    """:func:`insert_once` of ``values`` that name every column of ``model`` but its ``id``
    (its Python-side defaults given as values): on the driver once the transaction has begun
    (``storage/direct.py``), through SQLAlchemy before; True if inserted. A column left out
    fails the execution, rather than being left for SQLAlchemy to fill in (the driver would
    not)."""
    statement = _named_once(session.get_bind().dialect.name, model, tuple(conflict_columns))
    return bool(await direct.fetch_all(session, statement, values))


@cache
def _named_once(dialect: str, model: type[Base], conflict_columns: tuple[str, ...]) -> Insert:
    """:func:`_once` with every column but ``id`` a bound parameter of its name and type."""
    table = table_of(model)
    named = direct.named_parameters(table, direct.written_columns(table))
    return _once(dialect, model, conflict_columns).values(named)


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
