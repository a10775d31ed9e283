"""SQLite: the hot path's reads on the driver (``storage/direct.py``) run on the event loop's
thread once the transaction holds the write lock, without a trip to the database thread; a
``BEGIN IMMEDIATE`` still to be sent, a transaction that only reads and a trip still under way
keep them on the database thread."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.bootstrap import App
from storage import direct
from storage.db import create_engine
from storage.raw_session import session_of
from storage.repositories.arrival import ARRIVAL
from storage.sqlite_driver import OneTripConnection
from tests.storage.trip_support import count_trips
from tests.unit.staff_support import make_member

ARRIVING = {"channel": "telegram", "user_id": "U1"}


def _sqlite_only(app: App) -> None:
    if app.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's one-trip driver")


async def test_a_read_under_the_write_lock_takes_no_trip_and_reads_what_the_session_does(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    _sqlite_only(app)
    await make_member(app, user_id="U1")
    trips = count_trips(monkeypatch)
    async with app.uow() as uow:
        session = session_of(uow)
        first = await direct.rows(session, ARRIVAL, ARRIVING)
        assert trips == ["begin_then"]  # BEGIN IMMEDIATE goes with the first read, on the thread
        again = await direct.rows(session, ARRIVAL, ARRIVING)
        assert trips == ["begin_then"]  # under the write lock: no trip
        usual = [tuple(row) for row in (await session.execute(ARRIVAL, ARRIVING)).all()]
        await uow.commit()
    assert first == again == usual
    assert len(usual) == 1


async def test_what_waits_for_the_next_trip_runs_before_a_read_that_takes_none(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    _sqlite_only(app)
    await make_member(app, user_id="U1")
    now = app.clock.now()
    async with app.uow() as uow:
        await direct.rows(session_of(uow), ARRIVAL, ARRIVING)  # the write lock taken
        trips = count_trips(monkeypatch)
        recorded = await uow.events.first_time_along("tg:here", now)
        assert recorded is not None
        await direct.rows(session_of(uow), ARRIVAL, ARRIVING)
        assert trips == []
        assert recorded()  # the event id's INSERT ran, before the read
        assert await uow.events.seen("tg:here")
    async with app.uow() as uow:
        assert not await uow.events.seen("tg:here")  # undone with the unit of work


async def test_a_read_in_a_unit_of_work_that_only_reads_goes_to_the_database_thread(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    _sqlite_only(app)
    await make_member(app, user_id="U1")
    trips = count_trips(monkeypatch)
    async with app.uow.reading() as uow:
        await direct.rows(session_of(uow), ARRIVAL, ARRIVING)
        await direct.rows(session_of(uow), ARRIVAL, ARRIVING)
    # a plain BEGIN holds no write lock: a long read there must not hold up the event loop
    assert trips[:2] == ["begin_then", "_run"]


async def test_a_failed_read_without_a_trip_is_sqlalchemys_error(app: App) -> None:
    _sqlite_only(app)
    async with app.uow() as uow:
        await direct.rows(session_of(uow), ARRIVAL, ARRIVING)
        with pytest.raises(OperationalError):
            await direct.rows(session_of(uow), text("SELECT no_such_column"), {})


@pytest.fixture
async def sqlite(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'here.db'}")
    yield engine
    await engine.dispose()


async def _driver_of(connection: Any) -> OneTripConnection:
    driver = (await connection.get_raw_connection()).driver_connection
    assert isinstance(driver, OneTripConnection)
    return driver


async def test_the_read_runs_on_the_callers_thread_under_the_write_lock_only(
    sqlite: AsyncEngine,
) -> None:
    async with sqlite.begin() as connection:
        driver = await _driver_of(connection)
        assert driver.rows_here("SELECT 1", ()) is None  # the BEGIN IMMEDIATE is still to go
        await connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
        await driver.run(driver._conn.create_function, "thread_id", 0, threading.get_ident)
        assert driver.rows_here("SELECT thread_id()", ()) == [(threading.get_ident(),)]
    assert driver.rows_here("SELECT 1", ()) is None  # committed: no write lock held


async def test_no_read_runs_here_while_a_trip_is_still_on_the_database_thread(
    sqlite: AsyncEngine,
) -> None:
    async with sqlite.begin() as connection:
        await connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
        driver = await _driver_of(connection)
        gate = threading.Event()
        waiting = asyncio.ensure_future(driver.run(gate.wait, 5.0))
        await asyncio.sleep(0.05)
        assert driver.rows_here("SELECT 1", ()) is None
        # its caller gave up, but the thread still runs it: the connection is not free yet
        waiting.cancel()
        await asyncio.sleep(0.05)
        assert driver.rows_here("SELECT 1", ()) is None
        gate.set()
        for _ in range(100):
            if driver.rows_here("SELECT 1", ()) is not None:
                break
            await asyncio.sleep(0.01)
        assert driver.rows_here("SELECT 1", ()) == [(1,)]


async def test_the_events_of_a_batch_ask_the_session_for_its_connection_once(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    # ``session.connection()`` is a greenlet of SQLAlchemy's async bridge: once a transaction
    _sqlite_only(app)
    await make_member(app, user_id="U1")
    asked: list[object] = []
    ask = AsyncSession.connection

    async def counting(self: AsyncSession, *args: Any, **kwargs: Any) -> Any:
        asked.append(self)
        return await ask(self, *args, **kwargs)

    monkeypatch.setattr(AsyncSession, "connection", counting)
    now = app.clock.now()
    async with app.uow() as uow:
        for n in range(3):
            recorded = await uow.events.first_time_along(f"tg:batch{n}", now)
            assert recorded is not None
            await uow.identities._arrival("telegram", "U1")
            assert recorded()
        await uow.commit()
    assert len(asked) == 1
