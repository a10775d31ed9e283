"""SQLite's driver connection, with one trip to the database thread per statement.

aiosqlite runs every ``sqlite3`` call on a thread of its own; each call is a hand-off through a
queue and a wake-up of the event loop. SQLAlchemy's adapter makes four such calls per statement
(open a cursor, execute, fetch the rows, close the cursor), so a webhook event of eight
statements paid about 30 trips (``bench/write_path.py``). :class:`OneTripConnection` is an
aiosqlite connection whose cursors open, execute, read the first rows and close in a single
trip, and keep those rows for SQLAlchemy to fetch; a transaction's ``BEGIN`` goes along with its
first statement. A result longer than :data:`PREFETCH` rows (an export streaming members) is
read on in further trips of that size, so memory stays bounded. Everything else (``executemany``
on the connection, commit, closing) is aiosqlite's own. A statement whose caller is
cancelled is interrupted (``sqlite3.Connection.interrupt``), as asyncpg cancels one on
PostgreSQL; a close whose caller is cancelled is finished first, and a stop (SQLAlchemy's, when
that caller is cancelled once more) closes the connection, so its transaction ends with it.
Under the write lock the hot path's short statements skip the trip (``rows_here``).
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections import deque
from collections.abc import Awaitable, Callable, Generator, Iterable, Mapping, Sequence
from types import TracebackType
from typing import Any, Final, Self

import aiosqlite
from aiosqlite.core import _STOP_RUNNING_SENTINEL

from storage.sqlite_thread import work

#: rows read in the trip that executes a statement (and in each further trip of a long result):
#: more than the dispatcher's claim of a thousand rows and a multicast's 500 marked ids, which
#: then come back in the statement's own trip (a trip is a hand-over between two threads)
PREFETCH: Final = 1024

Description = tuple[tuple[Any, ...], ...] | None


class _Outcome:
    """What one trip brought back from the database thread."""

    __slots__ = ("cursor", "description", "lastrowid", "rowcount", "rows")

    def __init__(self, cursor: sqlite3.Cursor, rows: list[Any]) -> None:
        self.description: Description = cursor.description
        self.rows = rows
        self.rowcount = cursor.rowcount
        self.lastrowid = cursor.lastrowid
        # a result with rows left keeps its cursor open; anything else is closed already
        self.cursor: sqlite3.Cursor | None = cursor if len(rows) >= PREFETCH else None
        if self.cursor is None:
            cursor.close()


def _run(
    connection: sqlite3.Connection,
    previous: sqlite3.Cursor | None,
    sql: str,
    parameters: Any,
    many: bool,
) -> _Outcome:
    """On the database thread: close the cursor's previous statement, run ``sql``, read the
    first rows."""
    if previous is not None:
        previous.close()
    cursor = connection.cursor()
    if many:
        cursor.executemany(sql, parameters)
    else:
        cursor.execute(sql, parameters)
    rows = cursor.fetchmany(PREFETCH) if cursor.description is not None else []
    return _Outcome(cursor, rows)


def _more(cursor: sqlite3.Cursor, size: int | None) -> tuple[list[Any], bool]:
    """On the database thread: the next rows of a long result, and whether it is exhausted."""
    rows = cursor.fetchall() if size is None else cursor.fetchmany(size)
    done = size is None or len(rows) < size
    if done:
        cursor.close()
    return rows, done


class OneTripCursor:
    """The cursor SQLAlchemy's aiosqlite adapter drives (the subset of aiosqlite's it uses)."""

    arraysize: int = 1

    def __init__(self, connection: OneTripConnection) -> None:
        self._connection = connection
        self._open: sqlite3.Cursor | None = None  # a result with rows still in the database
        self._rows: deque[Any] = deque()
        self.description: Description = None
        self.rowcount = -1
        self.lastrowid: int | None = None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def __await__(self) -> Generator[Any, None, Self]:
        return self.__aenter__().__await__()

    async def execute(self, sql: str, parameters: Any = None) -> Self:
        return await self._execute(sql, () if parameters is None else parameters, False)

    async def executemany(self, sql: str, parameters: Iterable[Any]) -> Self:
        return await self._execute(sql, parameters, True)

    async def _execute(self, sql: str, parameters: Any, many: bool) -> Self:
        previous, self._open = self._open, None
        self._rows.clear()
        if not many and not parameters and sql.startswith(_DEFERRABLE):
            # a savepoint taken or released reads and writes nothing: it travels with the next
            # statement (``handlers/group_commit.py`` takes one per event of a batch)
            self._connection.with_next_statement(sql)
            self.description, self.rowcount, self.lastrowid = None, -1, None
            return self
        conn = self._connection._conn
        try:
            outcome: _Outcome = await self._connection.run(
                _run, conn, previous, sql, parameters, many
            )
        except asyncio.CancelledError:
            # nobody waits for the answer any more (a live count whose client left): stop the
            # statement rather than let it hold the connection until it is done
            conn.interrupt()
            raise
        self.description = outcome.description
        self.rowcount = outcome.rowcount
        self.lastrowid = outcome.lastrowid
        self._rows.extend(outcome.rows)
        self._open = outcome.cursor
        return self

    async def _read_on(self, size: int | None) -> None:
        cursor = self._open
        if cursor is None:
            return
        rows, done = await self._connection.run(_more, cursor, size)
        if done:
            self._open = None
        self._rows.extend(rows)

    async def fetchone(self) -> Any:
        if not self._rows:
            await self._read_on(PREFETCH)
        return self._rows.popleft() if self._rows else None

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        wanted = self.arraysize if size is None else size
        if len(self._rows) < wanted:
            await self._read_on(max(wanted - len(self._rows), PREFETCH))
        return [self._rows.popleft() for _ in range(min(wanted, len(self._rows)))]

    async def fetchall(self) -> list[Any]:
        await self._read_on(None)
        rows = list(self._rows)
        self._rows.clear()
        return rows

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> Any:
        row = await self.fetchone()
        if row is None:
            raise StopAsyncIteration
        return row

    async def close(self) -> None:
        self._rows.clear()
        cursor, self._open = self._open, None
        if cursor is not None and self._connection.is_open:
            await self._connection.run(cursor.close)


#: statements that need no trip of their own (SQLAlchemy's savepoint statements)
_DEFERRABLE: Final = ("SAVEPOINT ", "RELEASE SAVEPOINT ")
#: the ``BEGIN`` of a transaction that writes (``storage/db.py``): it takes the write lock
_WRITE_BEGIN: Final = "BEGIN IMMEDIATE"


class Along:
    """A statement sent with the next one (:meth:`OneTripConnection.with_next_statement`):
    its rows once that trip ran, None before."""

    __slots__ = ("rows",)

    def __init__(self) -> None:
        self.rows: list[Any] | None = None


#: a statement waiting for the next statement's trip: SQL, parameters, where its rows go
_Deferred = tuple[str, Any, Along | None]


class OneTripConnection(aiosqlite.Connection):
    """An aiosqlite connection whose cursors make one trip per statement, and whose ``BEGIN``
    (and savepoints) travel with the next statement."""

    _begin: str | None = None
    #: statements (savepoints, an event id's INSERT) waiting for the next statement's trip
    _deferred: tuple[_Deferred, ...] = ()
    #: nothing has run since the last commit or rollback, so a rollback has nothing to undo
    #: (the pool rolls back every connection handed back to it, committed or not)
    _idle = False
    #: what :meth:`stop` queued on the database thread resolves this (None before a stop)
    _stopped: asyncio.Future[Any] | None = None
    #: the transaction holds SQLite's write lock (its ``BEGIN IMMEDIATE`` ran)
    _writing = False
    #: trips queued for the database thread, and those it finished (each counted by one thread)
    _sent = _done = 0

    def __init__(self, connector: Callable[[], sqlite3.Connection], iter_chunk_size: int) -> None:
        super().__init__(connector, iter_chunk_size)
        # the same queue, served by a thread that survives its event loop closing first
        self._thread = threading.Thread(target=work, args=(self._tx,))

    @property
    def is_open(self) -> bool:
        return self._running and self._connection is not None

    def begin_with_next_statement(self, sql: str) -> None:
        """Start the transaction with ``sql`` right before the next statement, in its trip.

        ``BEGIN IMMEDIATE`` takes SQLite's write lock; sent alone it would cost a trip of its
        own, though nothing can happen on this connection between it and the next statement.
        A transaction that ends before any statement never began, so its commit or rollback
        has nothing to do.
        """
        self._begin = sql

    def with_next_statement(
        self, sql: str, parameters: Any = (), along: Along | None = None
    ) -> None:
        """Run ``sql`` (a savepoint's) right before the next statement, in its trip; its rows
        go to ``along``.

        Its errors, if any, are that statement's; a commit or rollback is such a statement,
        except when the transaction never began (then the savepoints are moot as well). A
        statement with rows to read must be followed by one (``along.rows`` stays None).
        """
        self._idle = False
        self._deferred = (*self._deferred, (sql, parameters, along))

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        self._idle = False
        begin, self._begin = self._begin, None
        first = self._deferred if begin is None else ((begin, (), None), *self._deferred)
        self._deferred = ()

        def begin_then() -> Any:
            try:
                self._first(first)
                return fn(*args, **kwargs)
            finally:
                self._done += 1

        if not first:  # the trip is named after what it runs
            begin_then.__name__ = getattr(fn, "__name__", begin_then.__name__)
        self._sent += 1
        return await super()._execute(begin_then)  # type: ignore[no-untyped-call]

    def _first(self, first: tuple[_Deferred, ...]) -> None:
        """What waits for the next statement, run before it (on whichever thread runs it)."""
        for sql, parameters, along in first:
            cursor = self._conn.execute(sql, parameters)
            if sql == _WRITE_BEGIN:
                self._writing = True
            if along is not None:
                along.rows = cursor.fetchall()

    def rows_here(self, sql: str, parameters: Any) -> list[Any] | None:
        """``sql``'s rows, run on the calling thread (the event loop's) after what waits for
        the next trip; None, with nothing run, unless the transaction holds SQLite's write lock
        and the database thread has nothing of this connection's under way.

        For the hot path's short statements (``storage/direct.py``): a trip costs several times
        what such a statement does (a queue, two threads woken), and under the write lock no
        statement waits for another connection (WAL). A ``BEGIN IMMEDIATE`` still to be sent
        (it may wait for the lock) and commits (a checkpoint's writes) keep to the thread.
        """
        connection = self._connection
        idle = self._sent == self._done and self._begin is None and self._running
        if not (self._writing and idle and connection is not None and connection.in_transaction):
            return None
        first, self._deferred = self._deferred, ()
        self._first(first)
        cursor = connection.execute(sql, parameters)
        try:
            return cursor.fetchall()
        finally:
            cursor.close()

    async def commit(self) -> None:
        # a transaction that never began has nothing to commit, unless a write waits for the
        # next trip (the commit's trip then sends BEGIN, the write and COMMIT together)
        writes = any(not sql.startswith(_DEFERRABLE) for sql, _, _ in self._deferred)
        if self._begin is None or writes:
            await super().commit()
        self._begin, self._deferred, self._idle, self._writing = None, (), True, False

    async def rollback(self) -> None:
        # what waits for the next trip would only be undone: it is not sent (a deferred write
        # that failed here would keep the rollback from running)
        self._deferred = ()
        if self._begin is None and not self._idle:
            await super().rollback()
        self._begin, self._deferred, self._idle, self._writing = None, (), True, False

    async def close(self) -> None:
        self._begin, self._deferred = None, ()
        closing = asyncio.ensure_future(self._close())
        try:
            await asyncio.shield(closing)
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is None or closing.cancelled():
                raise
            # The task was cancelled while its connection closes (a task stopped at shutdown
            # as it hands its connection back). The close is already queued on the database thread:
            # finish it, then let the cancellation land at the task's next await. Raised from
            # here it would reach the pool, which logs it as a failed close with a traceback.
            await closing
            task.uncancel()
            task.cancel()

    async def _close(self) -> None:
        if not self._running:
            # stopped while this close waited for its turn (SQLAlchemy closes a connection whose
            # task was cancelled mid-statement, and stops it when the task is cancelled again):
            # the stop closes the connection; aiosqlite's close would only queue a second stop
            # behind the thread's end, and wait for it forever
            if self._stopped is not None:
                await self._stopped
            return
        await super().close()

    def stop(self) -> asyncio.Future[Any] | None:
        """Close the sqlite3 connection on the database thread, then end the thread.

        The connection is the one held now. aiosqlite's own stop closes whatever the object
        holds once the thread gets to it; a close racing the stop has let go of it by then, and
        the sqlite3 connection stayed open with its transaction, and SQLite's write lock, until
        the garbage collector found it: every other writer waited its busy timeout meanwhile.
        """
        if not self._running:
            return self._stopped
        self._running = False
        connection = self._connection

        def close_and_stop() -> object:
            if connection is not None:
                connection.close()  # a transaction left open is rolled back
            self._connection = None  # closed: nothing left for a late close (or __del__) to do
            return _STOP_RUNNING_SENTINEL

        try:
            loop = asyncio.get_event_loop()
        except RuntimeError:  # no event loop any more (a connection collected at exit)
            loop = None
        # nor a future on a closed loop (a connection left open when its loop closed, stopped by
        # its ``__del__``): nobody can await it, and ``_work`` would only drop its answer
        stopped = None if loop is None or loop.is_closed() else loop.create_future()
        self._tx.put_nowait((stopped, close_and_stop))
        self._stopped = stopped
        return stopped

    async def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn(*args)`` on the database thread."""
        return await self._execute(fn, *args)

    def cursor(self) -> OneTripCursor:  # type: ignore[override]
        return OneTripCursor(self)


def connector(
    args: Sequence[Any], kwargs: Mapping[str, Any]
) -> Callable[[], Awaitable[OneTripConnection]]:
    """What opens a :class:`OneTripConnection` with ``sqlite3.connect``'s arguments (as
    SQLAlchemy's dialect derives them from the URL): the engine's ``async_creator``."""

    async def connect() -> OneTripConnection:
        connection = OneTripConnection(lambda: sqlite3.connect(*args, **kwargs), 64)
        # as SQLAlchemy does for aiosqlite: a connection left open must not keep Python running
        connection._thread.daemon = True
        await connection
        return connection

    return connect
