"""The fast bulk path: rows straight to the driver, in the open transaction.

The synthetic-shop generator loads through it, and a campaign launch writes its audience snapshot
and outbox rows through it (a million-member launch is two million rows).

SQLAlchemy's ``insert()`` executemany spends most of its time per row in Python (parameter
dicts, compiled-statement bookkeeping). Here each table's rows become plain tuples once, through
the columns' own bind processors (so ``Money`` is still satang and ``UTCDateTime`` still UTC),
and go to the driver in one call per batch:

- PostgreSQL: ``COPY … FROM STDIN (FORMAT binary)`` through asyncpg's
  ``copy_records_to_table``;
- SQLite: the sqlite3 cursor's ``executemany`` of one prepared ``INSERT``.

Both run on the SQLAlchemy connection's own driver connection, inside its transaction, so a
chunk is still all-or-nothing. :func:`drop_indexes` / :func:`create_indexes` let a loader into
an empty shop build the secondary indexes once at the end instead of maintaining them per row.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, Index, Table, text
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.schema import ScalarElementColumnDefault

from storage.types import UTCDateTime

Row = dict[str, Any]


def _defaults(table: Table) -> Row:
    """Client-side scalar defaults (``source``, ``locale``…) that ``insert()`` would apply."""
    return {
        column.name: column.default.arg
        for column in table.columns
        if isinstance(column.default, ScalarElementColumnDefault) and not column.primary_key
    }


def _utc_sqlite(value: datetime) -> str:
    """What ``UTCDateTime`` and SQLite's ``DATETIME`` bind processors make of an aware datetime
    (UTC, naive, ``YYYY-MM-DD HH:MM:SS.ffffff``), in one C call instead of three Python ones."""
    if value.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column")
    return value.astimezone(UTC).isoformat(" ", "microseconds")[:26]


def _utc_postgresql(value: datetime) -> datetime:
    """What ``UTCDateTime``'s bind processor hands asyncpg: the aware datetime in UTC."""
    if value.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column")
    return value.astimezone(UTC)


def _processor(column: Column[Any], dialect: Dialect) -> Callable[[Any], Any] | None:
    # UTCDateTime is every timestamp column and most of the cells of a load: its generic
    # processor chain (type decorator, then SQLite's %-formatting) cost more than generating
    # the rows; the shortcuts give the same values (tests compare them with the generic chain)
    if type(column.type) is UTCDateTime and dialect.name in ("sqlite", "postgresql"):
        return _utc_sqlite if dialect.name == "sqlite" else _utc_postgresql
    process: Callable[[Any], Any] | None = column.type._cached_bind_processor(dialect)
    return process


def _all_is(first: object, values: Sequence[Any]) -> bool:
    return all(value is first for value in values)


def to_records(
    table: Table, rows: Sequence[Row], dialect: Dialect
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """The columns to write and ``rows`` as tuples in that order, each value as the driver
    wants it (through the column type's bind processor). The columns are those the first row
    names plus those with a client-side default; every other column (serial ids, server
    defaults) is left to the database, as ``insert()`` would."""
    defaults = _defaults(table)
    given = set(rows[0])
    wanted = given | set(defaults)
    columns = [column for column in table.columns if column.name in wanted]
    names = [column.name for column in columns]
    # the named cells of every row in one C call per row, then turned column-wise: per-cell
    # Python work is what a million-member load spends its time on
    present = [name for name in names if name in given]
    if len(present) == 1:
        picked: list[Any] = [[row[present[0]]] for row in rows]
    else:
        pick = operator.itemgetter(*present)
        picked = [pick(row) for row in rows]
    by_name: dict[str, Sequence[Any]] = dict(zip(present, zip(*picked, strict=True), strict=True))
    values_by_column: list[Sequence[Any]] = []
    for column in columns:
        values: Sequence[Any]
        if column.name in by_name:
            values = by_name[column.name]
        else:  # only a client-side default: the same value in every row
            values = [defaults[column.name]] * len(rows)
        process = _processor(column, dialect)
        if process is not None and values and values[0] is not None and _all_is(values[0], values):
            # one object in every row (an import's clock reading, a default): converted once
            values = [process(values[0])] * len(values)
        elif process is not None:
            values = [None if value is None else process(value) for value in values]
        values_by_column.append(values)
    return names, list(zip(*values_by_column, strict=True))


async def bulk_insert(connection: AsyncConnection, table: Table, rows: Sequence[Row]) -> None:
    """Insert ``rows`` (dicts with the same keys) into ``table`` through the driver's fastest
    path, in the current transaction of ``connection``; stores what ``insert()`` would."""
    if not rows:
        return
    names, records = to_records(table, rows, connection.dialect)
    raw = await connection.get_raw_connection()
    driver: Any = raw.driver_connection
    # the SQLAlchemy transaction must be open on this connection before the driver joins it
    # (asyncpg and the SQLite BEGIN IMMEDIATE hook both start it lazily)
    await connection.execute(text("SELECT 1"))
    if connection.dialect.name == "postgresql":  # asyncpg quotes the names itself
        await driver.copy_records_to_table(table.name, records=records, columns=names)
        return
    quote = connection.dialect.identifier_preparer.quote  # e.g. campaign_members."group"
    marks = ", ".join("?" for _ in names)
    columns = ", ".join(quote(name) for name in names)
    statement = f"INSERT INTO {quote(table.name)} ({columns}) VALUES ({marks})"  # noqa: S608
    await driver.executemany(statement, records)


def secondary_indexes(tables: Sequence[Table]) -> list[Index]:
    """The declared indexes of ``tables`` (primary keys and unique constraints stay)."""
    return [index for table in tables for index in sorted(table.indexes, key=lambda i: str(i.name))]


async def drop_indexes(connection: AsyncConnection, indexes: Sequence[Index]) -> None:
    for index in indexes:
        await connection.execute(text(f"DROP INDEX IF EXISTS {index.name}"))


async def create_indexes(connection: AsyncConnection, indexes: Sequence[Index]) -> None:
    def create(sync: Connection) -> None:
        for index in indexes:
            index.create(sync, checkfirst=True)

    await connection.run_sync(create)
