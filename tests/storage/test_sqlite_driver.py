"""SQLite's driver connection: one trip to the database thread per statement, same results."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql.expression import ReleaseSavepointClause, SavepointClause

from storage.db import create_engine
from storage.sqlite_driver import PREFETCH, OneTripConnection
from tests.storage.trip_support import count_trips


@pytest.fixture
async def sqlite(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'driver.db'}")
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)"))
    yield engine
    await engine.dispose()


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The name of what each trip to the database thread ran."""
    return count_trips(monkeypatch)


async def test_a_statement_and_its_rows_take_one_trip(
    sqlite: AsyncEngine, trips: list[str]
) -> None:
    async with sqlite.begin() as connection:
        await connection.execute(text("INSERT INTO t (name) VALUES ('a'), ('b')"))
        trips.clear()
        rows = (await connection.execute(text("SELECT name FROM t ORDER BY id"))).all()

    assert [row.name for row in rows] == ["a", "b"]
    assert trips == ["_run", "commit"]


async def test_a_transaction_begins_with_its_first_statement_in_the_same_trip(
    sqlite: AsyncEngine, trips: list[str]
) -> None:
    async with sqlite.begin() as connection:
        await connection.execute(text("INSERT INTO t (name) VALUES ('a')"))

    # BEGIN rides with the INSERT; the pool's rollback of a committed connection is skipped
    assert trips == ["begin_then", "commit"]


async def test_a_transaction_holds_the_write_lock_from_its_first_statement(
    sqlite: AsyncEngine, tmp_path: Path
) -> None:
    other = sqlite3.connect(tmp_path / "driver.db", timeout=0, isolation_level=None)
    try:
        async with sqlite.begin() as connection:
            await connection.execute(text("SELECT count(*) FROM t"))  # a read, yet IMMEDIATE
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
        other.execute("BEGIN IMMEDIATE")  # free once it ended
        other.execute("ROLLBACK")
    finally:
        other.close()


async def test_a_transaction_without_statements_sends_nothing(
    sqlite: AsyncEngine, trips: list[str]
) -> None:
    async with sqlite.connect() as connection:
        await connection.begin()
        await connection.commit()
        await connection.begin()
        await connection.rollback()

    assert trips == []


async def test_a_long_result_streams_in_full_and_in_order(sqlite: AsyncEngine) -> None:
    count = PREFETCH * 3 + 7
    async with sqlite.begin() as connection:
        await connection.execute(
            text("INSERT INTO t (id, name) VALUES (:id, :name)"),
            [{"id": n, "name": f"n{n}"} for n in range(count)],
        )
    async with sqlite.connect() as connection:
        result = await connection.stream(text("SELECT id FROM t ORDER BY id"))
        streamed = [row.id async for row in result]
        everything = (await connection.execute(text("SELECT id FROM t ORDER BY id"))).all()

    assert streamed == list(range(count))
    assert [row.id for row in everything] == list(range(count))


async def test_a_stream_left_half_read_does_not_block_the_next_statement(
    sqlite: AsyncEngine,
) -> None:
    async with sqlite.begin() as connection:
        await connection.execute(
            text("INSERT INTO t (id, name) VALUES (:id, 'x')"),
            [{"id": n} for n in range(PREFETCH * 2)],
        )
    async with sqlite.begin() as connection:
        result = await connection.stream(text("SELECT id FROM t ORDER BY id"))
        first = await result.fetchmany(3)
        await result.close()
        await connection.execute(text("DELETE FROM t WHERE id >= 10"))
        left = (await connection.execute(text("SELECT count(*) FROM t"))).scalar_one()

    assert [row.id for row in first] == [0, 1, 2]
    assert left == 10


async def test_row_counts_and_new_ids_are_reported(sqlite: AsyncEngine) -> None:
    async with sqlite.begin() as connection:
        inserted = await connection.execute(text("INSERT INTO t (name) VALUES ('a')"))
        await connection.execute(text("INSERT INTO t (name) VALUES ('b'), ('c')"))
        updated = await connection.execute(text("UPDATE t SET name = 'z' WHERE id > 1"))
        returned = await connection.execute(text("DELETE FROM t WHERE id = 1 RETURNING name"))

    assert inserted.lastrowid == 1
    assert updated.rowcount == 2
    assert returned.scalar_one() == "a"


async def test_a_failing_statement_raises_and_the_connection_goes_on(
    sqlite: AsyncEngine,
) -> None:
    async with sqlite.connect() as connection:
        await connection.execute(text("INSERT INTO t (id, name) VALUES (1, 'a')"))
        with pytest.raises(IntegrityError):
            await connection.execute(text("INSERT INTO t (id, name) VALUES (1, 'again')"))
        await connection.rollback()
        await connection.execute(text("INSERT INTO t (id, name) VALUES (2, 'b')"))
        await connection.commit()
        names = (await connection.execute(text("SELECT name FROM t"))).scalars().all()

    assert names == ["b"]


async def test_the_engine_opens_one_trip_connections(sqlite: AsyncEngine) -> None:
    async with sqlite.connect() as connection:
        raw = await connection.get_raw_connection()
        driver = raw.driver_connection

    assert isinstance(driver, OneTripConnection)


async def test_savepoints_travel_with_the_next_statement(
    sqlite: AsyncEngine, trips: list[str]
) -> None:
    async with sqlite.begin() as connection:
        await connection.execute(text("INSERT INTO t (name) VALUES ('kept')"))
        trips.clear()
        async with connection.begin_nested():
            await connection.execute(text("INSERT INTO t (name) VALUES ('also kept')"))
        async with connection.begin_nested():  # its RELEASE rides with the commit
            await connection.execute(text("INSERT INTO t (name) VALUES ('too')"))

    # three trips: each INSERT with the savepoint before it, the commit with the last RELEASE
    assert trips == ["begin_then", "begin_then", "begin_then"]
    async with sqlite.connect() as connection:
        names = (await connection.execute(text("SELECT name FROM t ORDER BY id"))).scalars()
        assert names.all() == ["kept", "also kept", "too"]


async def test_a_savepoint_rolled_back_undoes_its_statements_only(sqlite: AsyncEngine) -> None:
    async with sqlite.begin() as connection:
        await connection.execute(text("INSERT INTO t (name) VALUES ('kept')"))
        nested = await connection.begin_nested()
        await connection.execute(text("INSERT INTO t (name) VALUES ('undone')"))
        await nested.rollback()
        empty = await connection.begin_nested()  # nothing ran inside it before its rollback
        await empty.rollback()
        await connection.execute(text("INSERT INTO t (name) VALUES ('after')"))

    async with sqlite.connect() as connection:
        names = (await connection.execute(text("SELECT name FROM t ORDER BY id"))).scalars()
        assert names.all() == ["kept", "after"]


async def test_a_savepoint_in_a_transaction_that_never_began_sends_nothing(
    sqlite: AsyncEngine, trips: list[str]
) -> None:
    async with sqlite.connect() as connection:
        await connection.begin()
        async with connection.begin_nested():
            pass
        await connection.rollback()

    assert trips == []


async def test_a_cancelled_statement_is_interrupted_and_frees_the_connection(
    sqlite: AsyncEngine,
) -> None:
    """A live count whose client left is cancelled: its statement stops on the database thread
    instead of running on for nobody (the connection would wait for it until the end)."""
    started = threading.Event()

    def mark() -> int:
        started.set()
        return 1

    endless = (
        "WITH RECURSIVE c(x) AS (SELECT mark() UNION ALL SELECT x + 1 FROM c) "
        "SELECT count(*) FROM c"
    )
    async with sqlite.connect() as connection:
        raw = (await connection.get_raw_connection()).driver_connection
        assert isinstance(raw, OneTripConnection)
        await raw.create_function("mark", 0, mark)
        counting = asyncio.create_task(raw.cursor().execute(endless))
        await asyncio.to_thread(started.wait)
        counting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await counting
        try:
            # the guard only turns a statement left running into a failure instead of a hang
            answer = await asyncio.wait_for(raw.run(lambda: 1), timeout=60)
        finally:
            raw._conn.interrupt()
        assert answer == 1
        cursor = await raw.cursor().execute("SELECT 2")
        assert await cursor.fetchall() == [(2,)]


async def test_a_task_cancelled_while_it_closes_a_connection_finishes_the_close_quietly(
    sqlite: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    """A task cancelled while its connection closes (a job stopped at shutdown as it drops an
    overflow connection, or here the engine being disposed) still ends cancelled, but the
    close completes first: before, the cancellation landed inside the close, the pool logged
    it as a failed close with a traceback, and the demo's stderr carried it."""
    async with sqlite.connect() as connection:
        await connection.execute(text("SELECT 1"))
        raw = (await connection.get_raw_connection()).driver_connection
    assert isinstance(raw, OneTripConnection)
    disposing = asyncio.create_task(sqlite.dispose())
    await asyncio.sleep(0)  # the dispose is now waiting on the connection's thread
    disposing.cancel()
    with pytest.raises(asyncio.CancelledError):
        await disposing
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors]
    await asyncio.to_thread(raw._thread.join, 30)
    assert not raw._thread.is_alive()


async def test_savepoints_go_to_the_driver_without_a_statement_execution(
    sqlite: AsyncEngine, trips: list[str]
) -> None:
    """The bus takes a savepoint per event of a batch: SQLAlchemy's compile and execution of
    ``SAVEPOINT`` / ``RELEASE`` are skipped, the driver gets the same text to send along."""
    executed: list[str] = []

    def _executed(_c: Any, _cur: Any, statement: str, *_rest: Any) -> None:
        executed.append(statement)

    event.listen(sqlite.sync_engine, "before_cursor_execute", _executed)
    sent: list[str] = []
    async with sqlite.begin() as connection:
        driver = (await connection.get_raw_connection()).driver_connection
        assert isinstance(driver, OneTripConnection)
        defer = driver.with_next_statement

        def _deferred(sql: str, parameters: Any = (), along: Any = None) -> None:
            sent.append(sql)
            defer(sql, parameters, along)

        driver.with_next_statement = _deferred  # type: ignore[method-assign]
        await connection.execute(text("INSERT INTO t (name) VALUES ('kept')"))
        async with connection.begin_nested():
            await connection.execute(text("INSERT INTO t (name) VALUES ('also kept')"))
    event.remove(sqlite.sync_engine, "before_cursor_execute", _executed)

    dialect = sqlite.sync_engine.dialect
    clauses = (
        SavepointClause("sa_savepoint_1"),  # type: ignore[no-untyped-call]
        ReleaseSavepointClause("sa_savepoint_1"),  # type: ignore[no-untyped-call]
    )
    compiled = [str(clause.compile(dialect=dialect)) for clause in clauses]
    assert sent == compiled
    assert not [sql for sql in executed if "SAVEPOINT" in sql]
    # BEGIN with the first INSERT, SAVEPOINT with the second, RELEASE with the commit
    assert trips == ["begin_then", "begin_then", "begin_then"]
    async with sqlite.connect() as connection:
        names = (await connection.execute(text("SELECT name FROM t ORDER BY id"))).scalars()
        assert names.all() == ["kept", "also kept"]


async def test_a_rollback_does_not_send_what_waits_for_the_next_trip(
    sqlite: AsyncEngine, trips: list[str]
) -> None:
    async with sqlite.connect() as connection:
        await connection.execute(text("INSERT INTO t (name) VALUES ('undone')"))
        driver = (await connection.get_raw_connection()).driver_connection
        assert isinstance(driver, OneTripConnection)
        driver.with_next_statement("INSERT INTO missing_table VALUES (1)")  # would fail if sent
        trips.clear()
        await connection.rollback()

    assert trips == ["rollback"]
    async with sqlite.connect() as connection:
        assert (await connection.execute(text("SELECT count(*) FROM t"))).scalar_one() == 0


async def test_a_write_waiting_for_the_next_trip_is_committed_though_nothing_else_ran(
    sqlite: AsyncEngine,
) -> None:
    """A write queued for the next trip in a transaction whose BEGIN is still waiting too (no
    statement has run yet) is the transaction's whole content: the commit sends BEGIN, the
    write and COMMIT. (Only savepoints were queued once; a commit with nothing but savepoints
    waiting still sends nothing.)"""
    async with sqlite.connect() as connection:
        await connection.begin()
        driver = (await connection.get_raw_connection()).driver_connection
        assert isinstance(driver, OneTripConnection)
        driver.with_next_statement("INSERT INTO t (name) VALUES (?)", ("queued",))
        await connection.commit()
    async with sqlite.connect() as connection:
        names = (await connection.execute(text("SELECT name FROM t"))).scalars().all()
    assert names == ["queued"]


@pytest.fixture
def thread_errors() -> Iterator[list[BaseException | None]]:
    """What the threads raised (pytest's unhandled-thread-exception warning), while a test's
    event loop of its own is the current one."""
    raised: list[BaseException | None] = []
    hook, threading.excepthook = threading.excepthook, lambda args: raised.append(args.exc_value)
    try:
        yield raised
    finally:
        threading.excepthook = hook
        asyncio.set_event_loop(None)


def opened_on(loop: asyncio.AbstractEventLoop, path: Path) -> OneTripConnection:
    asyncio.set_event_loop(loop)

    async def opened() -> OneTripConnection:
        connection = OneTripConnection(lambda: sqlite3.connect(path), 64)
        await connection
        return connection

    return loop.run_until_complete(opened())


def test_a_connection_stopped_after_its_event_loop_closed_ends_its_thread_quietly(
    tmp_path: Path, thread_errors: list[BaseException | None]
) -> None:
    # A connection left open when its event loop closed (a test's loop at teardown, a process
    # at exit) is stopped later, by its ``__del__`` or a pool's clean-up. The stop's future was
    # made on the closed loop, and the database thread's answer to it raised "Event loop is
    # closed" in that thread (pytest's unhandled-thread-exception warning).
    loop = asyncio.new_event_loop()
    connection = opened_on(loop, tmp_path / "x.db")
    loop.close()
    assert connection.stop() is None  # no future on a closed loop: nobody can await it
    connection._thread.join(5)
    assert not connection._thread.is_alive()
    assert thread_errors == []


def test_a_statement_answered_after_its_event_loop_closed_ends_its_thread_quietly(
    tmp_path: Path, thread_errors: list[BaseException | None]
) -> None:
    # The other way a database thread outlives its loop: a statement (or close) queued while
    # the loop ran finishes after the loop closed (a test's loop torn down mid-statement).
    # The answer to its future then raised "Event loop is closed" in the database thread,
    # twice: once for the result, once more from the handler that tried to pass that error on.
    loop = asyncio.new_event_loop()
    connection = opened_on(loop, tmp_path / "x.db")
    release = threading.Event()
    try:
        pending = loop.create_task(connection.run(release.wait, 5))
        loop.run_until_complete(asyncio.sleep(0))  # the statement is on the database thread
        pending.cancel()
        loop.run_until_complete(asyncio.sleep(0))
        loop.close()
    finally:
        release.set()  # the statement ends after its loop closed
    assert connection.stop() is None
    connection._thread.join(5)
    assert not connection._thread.is_alive()
    assert thread_errors == []
