"""The hot path's most frequent reads run on the driver, as SQLAlchemy would run them.

Every webhook event reads its author (``storage/repositories/arrival.py``), and every ``/points``
tap its spend and ledger; in SQLAlchemy's execution (the session's bookkeeping, the compiled
cache's look-up, the result's set-up) such a statement costs about twice what its text costs
on the driver. :func:`rows` sends the text SQLAlchemy compiles for the statement (compiled once
per dialect, ``storage/along.py``), its parameters converted by their types, on the driver
connection of the session's own transaction, and converts each column of the rows with its
type's result processor: the values are those ``session.execute`` gives. On SQLite, once the
transaction holds the write lock, the statement runs on the event loop's thread, without a trip
to the database thread (``OneTripConnection.rows_here``).

What ``session.execute`` would do besides is kept: the session's pending changes are flushed
first (its autoflush), the statement runs in the session's transaction (a ``BEGIN`` or a
statement waiting for the next trip goes with it), and a driver's error is raised as
SQLAlchemy's (:class:`sqlalchemy.exc.DBAPIError`, which the group commit tells from a
handler's crash). Only SQLAlchemy's public API is used.

On PostgreSQL the driver is asyncpg's connection (``storage/pg_driver.py``), used once the
transaction has begun there: SQLAlchemy's adapter begins it with the first statement it runs,
so before that :func:`rows` says None and the caller executes the statement as usual (a unit
of work's first statement, the first arrival of a group commit's batch, is SQLAlchemy's).
:func:`along` is SQLite's alone (no statement waits for the next trip on asyncpg);
:func:`write` runs its statement now there.
On another driver :func:`rows` says None and the caller executes the statement as usual.

An INSERT goes to the driver only when it names every column it writes (:func:`insert_of`):
SQLAlchemy's execution computes a model's Python-side defaults for the columns a statement
leaves out, and the driver would not.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from typing import Any, Final, cast

from sqlalchemy import Table, bindparam, insert
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql import ClauseElement, ColumnElement, Select
from sqlalchemy.sql.dml import Insert, UpdateBase
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.sql.selectable import ReturnsRows

from storage import pg_driver
from storage.along import positional, send_along
from storage.along import session_driver as _driver
from storage.sqlite_driver import OneTripConnection


@cache
def _processors(statement: ReturnsRows, dialect: Dialect) -> tuple[tuple[int, Any], ...]:
    """Each column of ``statement``'s rows that its type converts, with its conversion (as the
    result of ``session.execute`` converts it)."""
    found: list[tuple[int, Any]] = []
    for index, column in enumerate(statement.exported_columns):
        convert = column.type.dialect_impl(dialect).result_processor(dialect, None)
        if convert is not None:
            found.append((index, convert))
    return tuple(found)


async def _flushed(session: AsyncSession) -> None:
    """The session's pending changes flushed, as before it executes a statement."""
    sync = session.sync_session
    if sync.autoflush and (sync.new or sync.dirty or sync.deleted):
        await session.flush()


async def along(session: AsyncSession, statement: ClauseElement, values: Mapping[str, Any]) -> bool:
    """``statement`` (a write whose rows nobody reads) sent with the session's next statement
    on SQLite's one-trip driver (``storage/along.py``), after the session's pending changes;
    False on another driver (the caller executes it as usual)."""
    await _flushed(session)
    driver = await _driver(session)
    if driver is None or not isinstance(driver[1], OneTripConnection):
        return False
    _, one_trip, dialect = driver
    send_along((one_trip, dialect), statement, values)
    return True


async def rows(
    session: AsyncSession, statement: ReturnsRows, values: Mapping[str, Any]
) -> list[tuple[Any, ...]] | None:
    """``statement``'s rows with ``values`` (by bound parameter name), as tuples of the values
    ``session.execute(statement, values).all()`` gives; None on another driver than SQLite's
    one-trip driver or asyncpg, and on asyncpg before the transaction's first statement (the
    caller executes it as usual, which begins the transaction)."""
    await _flushed(session)
    driver = await _driver(session)
    if driver is None:
        return None
    connection, on, dialect = driver
    sqlite = isinstance(on, OneTripConnection)
    if not sqlite and not pg_driver.began(on):
        # asyncpg, before the transaction's first statement: the caller's path begins it
        return None
    sql, parameters = positional(statement, dialect, values)
    if sqlite:
        found = await _one_trip_rows(connection, on, dialect, sql, parameters)
    else:
        found = await pg_driver.fetch(connection, on, sql, parameters)
    convert = _processors(statement, dialect)
    if not convert:
        return found
    return [_converted(row, convert) for row in found]


async def _one_trip_rows(
    connection: AsyncConnection,
    one_trip: OneTripConnection,
    dialect: Dialect,
    sql: str,
    parameters: tuple[Any, ...],
) -> list[tuple[Any, ...]]:
    try:
        # in a transaction holding the write lock, on the loop's thread: no trip
        here = one_trip.rows_here(sql, parameters)
        if here is not None:
            return here
        cursor = one_trip.cursor()
        await cursor.execute(sql, parameters)
        found: list[tuple[Any, ...]] = await cursor.fetchall()
    except (sqlite3.Error, ValueError) as error:
        raise await _driver_error(connection, dialect, sql, parameters, error) from error
    return found


async def fetch_all(
    session: AsyncSession, statement: Select[Any] | Insert, values: Mapping[str, Any]
) -> Sequence[Any]:
    """``statement``'s rows (a read's, or an INSERT's ``RETURNING``): on the driver where
    :func:`rows` runs it, elsewhere through ``session.execute`` (the same values either way).
    An INSERT names its every column (:func:`insert_of`): the driver computes no default."""
    found: Sequence[Any] | None = await rows(session, statement, values)
    if found is None:
        found = (await session.execute(statement, values)).all()
    return found


def written_columns(table: Table) -> tuple[str, ...]:
    """Every column of ``table`` but its ``id``: what an INSERT that gives every value names."""
    return tuple(column.name for column in table.c if column.name != "id")


def named_parameters(table: Table, names: Sequence[str]) -> dict[str, BindParameter[Any]]:
    """Each of the columns ``names`` of ``table`` as the bound parameter of its name and type."""
    return {name: bindparam(name, type_=table.c[name].type) for name in names}


def insert_of(table: Table, names: Sequence[str], *returning: ColumnElement[Any]) -> Insert:
    """An INSERT into ``table`` of the columns ``names``, each the bound parameter of its name
    and column type, ``RETURNING`` ``returning``: the caller gives every value, so no
    Python-side default is left for SQLAlchemy's execution to compute and the statement runs
    on the driver as it is (:func:`fetch_all`)."""
    return insert(table).values(named_parameters(table, names)).returning(*returning)


async def write(session: AsyncSession, statement: UpdateBase, values: Mapping[str, Any]) -> None:
    """``statement`` (a write whose rows nobody reads): with the next statement on SQLite's
    one-trip driver (:func:`along`), now on asyncpg once the transaction has begun, elsewhere
    through ``session.execute`` now."""
    if await along(session, statement, values):
        return
    driver = await _driver(session)  # not SQLite's (along took that): asyncpg's, or None
    if driver is not None and pg_driver.began(driver[1]):
        connection, asyncpg_connection, dialect = driver
        sql, parameters = positional(statement, dialect, values)
        await pg_driver.execute(connection, asyncpg_connection, sql, parameters)
        return
    await session.execute(statement, values)


async def _driver_error(
    connection: AsyncConnection,
    dialect: Dialect,
    sql: str,
    parameters: tuple[Any, ...],
    error: Exception,
) -> BaseException:
    """The error SQLAlchemy raises for the driver's ``error``: a connection found dead (aiosqlite
    says so with a ValueError) is invalidated, and the error says so (the bus runs the event
    again on a fresh one)."""
    if isinstance(error, ValueError):
        if str(error).lower() not in _CLOSED:
            raise error
        error = sqlite3.OperationalError(str(error))
    assert isinstance(error, sqlite3.Error)
    dead = dialect.is_disconnect(cast(Any, error), None, None)
    if dead:
        await connection.invalidate(error)
    return DBAPIError.instance(
        sql,
        parameters,
        error,
        sqlite3.Error,
        hide_parameters=True,  # as the engine's (storage.db.create_engine): no member's words
        connection_invalidated=dead,
        dialect=dialect,
    )


#: aiosqlite's ValueError when its connection is closed (SQLAlchemy's adapter reads the same)
_CLOSED: Final = ("no active connection", "connection closed")


def _converted(row: tuple[Any, ...], convert: tuple[tuple[int, Callable[[Any], Any]], ...]) -> Any:
    values = list(row)
    for index, f in convert:
        values[index] = f(values[index])
    return tuple(values)
