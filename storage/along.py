"""Statements sent to SQLite's one-trip driver as text, to travel with the next statement.

The hot path's smallest statements (every event's id recorded, its author's ``last_seen_at``
written) cost more in SQLAlchemy's execution and in a trip of their own to the database thread
than in SQLite. On :class:`~storage.sqlite_driver.OneTripConnection` they go, as the text and
parameters SQLAlchemy would send (compiled once, each parameter converted by its column type
as SQLAlchemy converts it), in the trip of the next statement; their errors are that
statement's. Elsewhere (PostgreSQL) :func:`one_trip_driver` says None and the caller executes
the statement as usual.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache
from typing import Any, Final

from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

from storage import pg_driver
from storage.sqlite_driver import Along, OneTripConnection

#: where :func:`session_driver` keeps the driver of the session's transaction (``Session.info``)
_HELD: Final = "chatcrm_direct_driver"

Converter = Callable[[Any], Any] | None


#: a parameter the caller must give (:func:`send_along`): no value in the statement
_REQUIRED: Any = object()


@cache
def compiled(
    statement: ClauseElement, dialect: Dialect
) -> tuple[str, tuple[str, ...], tuple[Converter, ...], tuple[Any, ...]]:
    """``statement``'s text for ``dialect``, its positional parameters' names, conversions and
    the values the statement holds itself (a literal's, ``_REQUIRED`` where the caller gives
    it)."""
    done = statement.compile(dialect=dialect)
    assert isinstance(done, SQLCompiler)
    names = tuple(done.positiontup or ())
    binds = [done.binds[name] for name in names]
    types = (bind.type.dialect_impl(dialect) for bind in binds)
    held = tuple(_REQUIRED if bind.required else bind.effective_value for bind in binds)
    return done.string, names, tuple(type_.bind_processor(dialect) for type_ in types), held


async def one_trip_driver(session: AsyncSession) -> tuple[OneTripConnection, Dialect] | None:
    """The driver connection of ``session``'s transaction (begun if need be) when it is a
    :class:`OneTripConnection`, with its dialect (:func:`session_driver`); None on another
    driver."""
    found = await session_driver(session)
    if found is None or not isinstance(found[1], OneTripConnection):
        return None
    return found[1], found[2]


#: the driver of a session's transaction: the SQLAlchemy connection and the driver's (SQLite's
#: :class:`OneTripConnection` or asyncpg's connection), its dialect
Driver = tuple[AsyncConnection, Any, Dialect]


async def session_driver(session: AsyncSession) -> Driver | None:
    """The connection of the session's transaction (begun if need be) when its driver is a
    :class:`OneTripConnection` or asyncpg's (``storage/pg_driver.py``), kept while the
    session's innermost transaction stays the same (its connection does); None on another
    driver. Asked of the session (``session.connection()``, a greenlet of SQLAlchemy's async
    bridge) once per transaction, not per statement.

    Kept per innermost transaction, not per outermost: the session takes a savepoint on the
    connection only when it is asked for the connection inside ``begin_nested()``, so a
    statement inside a new savepoint asks once (``session.connection()``), and the savepoint's
    rollback then undoes it."""
    sync = session.sync_session
    held = sync.info.get(_HELD)
    if held is not None and held[0] is _innermost(sync) is not None and _active(sync):
        found: Driver | None = held[1]
        return found
    connection = await session.connection()
    driver = connection.sync_connection.connection.driver_connection  # type: ignore[union-attr]
    known = isinstance(driver, OneTripConnection) or pg_driver.is_driver(driver)
    found = (connection, driver, connection.dialect) if known else None
    sync.info[_HELD] = (_innermost(sync), found)
    return found


def _innermost(sync: Session) -> SessionTransaction | None:
    return sync.get_nested_transaction() or sync.get_transaction()


def _active(sync: Session) -> bool:
    """Whether the session's transaction, and its savepoint if it is in one, may run
    statements (after a failed flush, until rolled back, ``session.connection()`` refuses)."""
    transaction = sync.get_transaction()
    nested = sync.get_nested_transaction()
    return (
        transaction is not None and transaction.is_active and (nested is None or nested.is_active)
    )


def send_along(
    driver: tuple[OneTripConnection, Dialect],
    statement: ClauseElement,
    values: Mapping[str, Any],
    along: Along | None = None,
) -> None:
    """Queue ``statement`` with ``values`` (by bound parameter name; a literal of the statement
    keeps its own unless given) for the next trip; its rows go to ``along``."""
    connection, dialect = driver
    sql, parameters = positional(statement, dialect, values)
    connection.with_next_statement(sql, parameters, along)


def positional(
    statement: ClauseElement, dialect: Dialect, values: Mapping[str, Any]
) -> tuple[str, tuple[Any, ...]]:
    """``statement``'s text for ``dialect`` and its positional parameters: ``values`` (by bound
    parameter name; a literal of the statement keeps its own unless given), each converted by
    its type as SQLAlchemy converts it."""
    sql, names, convert, held = compiled(statement, dialect)
    given = (
        values[name] if value is _REQUIRED else values.get(name, value)
        for name, value in zip(names, held, strict=True)
    )
    parameters = tuple(
        value if f is None else f(value) for value, f in zip(given, convert, strict=True)
    )
    return sql, parameters
