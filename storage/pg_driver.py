"""The hot path's statements on asyncpg, in the session's own transaction (``storage/direct.py``).

On PostgreSQL SQLAlchemy's execution of a statement (the session's bookkeeping, the compiled
cache's look-up, the result's set-up, the adapter's own prepared statement) costs more than the
statement on asyncpg. Once the session's transaction has begun on its asyncpg connection (its
first statement begins it: SQLAlchemy's adapter sends the ``BEGIN`` itself), :func:`fetch` and
:func:`execute` send the text SQLAlchemy compiles for the statement, with its parameters as
SQLAlchemy converts them, on that connection: in the same transaction and savepoint.

Statements are prepared by asyncpg's own statement cache (a least-recently-used cache of the
connection, bounded by asyncpg's ``statement_cache_size``); only the few statements
``storage/direct.py``'s callers name go through it. A driver's error is raised as SQLAlchemy
raises it (:class:`sqlalchemy.exc.DBAPIError`, an :class:`~sqlalchemy.exc.IntegrityError` for
a refused unique key), of the dialect's PEP 249 classes chosen by asyncpg's public exception
classes; a connection found closed is invalidated, so the bus runs the event again on a fresh
one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

#: what asyncpg raises for a statement or a connection: the server's refusal, the client's own
#: checks (a closed connection, a statement cache gone stale), the socket's failure
_ERRORS: Final = (
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.InternalClientError,
    OSError,
)

#: SQLSTATE classes PEP 249 calls operational: the connection, a transaction rolled back
#: (serialisation, deadlock), resources, an operator's intervention, the system
_OPERATIONAL: Final = frozenset({"08", "40", "53", "54", "57", "58"})


def is_driver(driver: Any) -> bool:
    """Whether ``driver`` (a pooled connection's driver connection) is asyncpg's."""
    return isinstance(driver, asyncpg.Connection)


def began(driver: asyncpg.Connection) -> bool:
    """Whether the session's transaction has begun on ``driver`` (its first statement did)."""
    return bool(driver.is_in_transaction())


async def fetch(
    connection: AsyncConnection,
    driver: asyncpg.Connection,
    sql: str,
    parameters: tuple[Any, ...],
) -> list[tuple[Any, ...]]:
    """The rows of ``sql`` with ``parameters``, as tuples (as SQLAlchemy's adapter reads them)."""
    try:
        found: Sequence[Any] = await driver.fetch(sql, *parameters)
    except _ERRORS as error:
        raise await _driver_error(connection, driver, sql, parameters, error) from error
    return [tuple(record) for record in found]


async def execute(
    connection: AsyncConnection,
    driver: asyncpg.Connection,
    sql: str,
    parameters: tuple[Any, ...],
) -> None:
    """``sql`` with ``parameters`` run now (a write nobody reads the rows of)."""
    try:
        await driver.execute(sql, *parameters)
    except _ERRORS as error:
        raise await _driver_error(connection, driver, sql, parameters, error) from error


async def _driver_error(
    connection: AsyncConnection,
    driver: asyncpg.Connection,
    sql: str,
    parameters: tuple[Any, ...],
    error: Exception,
) -> BaseException:
    """The error SQLAlchemy raises for asyncpg's ``error``; the connection invalidated when it
    is found closed (the error says so: the bus runs the event again on a fresh one)."""
    dialect = connection.dialect
    translated = _translated(error, dialect)
    dead = driver.is_closed()
    if dead:
        await connection.invalidate(translated)
    return DBAPIError.instance(
        sql,
        parameters,
        translated,
        dialect.loaded_dbapi.Error,
        hide_parameters=True,  # as the engine's (storage.db.create_engine): no member's words
        connection_invalidated=dead,
        dialect=dialect,
    )


def _translated(error: Exception, dialect: Dialect) -> Exception:
    """``error`` as the dialect's PEP 249 exception (constructed, as the dialect's own are, with
    the message and the driver's exception), chosen by asyncpg's public exception classes and
    the SQLSTATE's class."""
    dbapi = dialect.loaded_dbapi
    kind: Any
    if isinstance(error, asyncpg.IntegrityConstraintViolationError):
        kind = dbapi.IntegrityError
    elif isinstance(error, asyncpg.exceptions.SyntaxOrAccessError):
        kind = dbapi.ProgrammingError
    elif isinstance(error, asyncpg.exceptions.DataError):
        kind = dbapi.DataError
    elif isinstance(error, asyncpg.PostgresError):
        state = str(getattr(error, "sqlstate", "") or "")
        kind = dbapi.OperationalError if state[:2] in _OPERATIONAL else dbapi.DatabaseError
    elif isinstance(error, OSError):
        kind = dbapi.OperationalError
    else:
        kind = dbapi.InterfaceError
    found: Exception = kind(str(error), error)
    return found
