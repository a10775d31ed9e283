"""Statements on asyncpg in the session's transaction (``storage/pg_driver.py``) fail as
SQLAlchemy's execution fails: what the callers catch, a dead connection invalidated."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Integer, bindparam, func, insert, literal_column, select, text

from bot.bootstrap import App
from storage import direct
from storage.errors import ConstraintViolation, DriverError
from storage.models import ProcessedEvent
from storage.raw_session import session_of
from storage.repositories.points import _KEY_USED


def _postgresql(app: App) -> None:
    if app.engine.dialect.name != "postgresql":
        pytest.skip("asyncpg's path")


async def _begun(app: App, uow: object) -> None:
    """The unit of work's transaction begun on asyncpg, as the arrival begins it."""
    await session_of(uow).execute(select(literal_column("1")))  # type: ignore[arg-type]


async def test_a_unique_key_refused_on_asyncpg_is_the_constraint_violation_callers_catch(
    app: App,
) -> None:
    _postgresql(app)
    record = insert(ProcessedEvent)
    at = app.clock.now()
    async with app.uow() as uow:
        await _begun(app, uow)
        await direct.write(session_of(uow), record, {"event_key": "e1", "processed_at": at})
        with pytest.raises(ConstraintViolation) as refused:
            await direct.write(session_of(uow), record, {"event_key": "e1", "processed_at": at})

    assert not refused.value.connection_invalidated
    async with app.uow() as uow:  # rolled back with the unit of work, the pool's connection fine
        count = await session_of(uow).scalar(select(func.count()).select_from(ProcessedEvent))
    assert count == 0


async def test_a_statement_refused_on_asyncpg_is_a_driver_error_not_a_crash(app: App) -> None:
    _postgresql(app)
    bad = select(literal_column("1") / bindparam("zero", type_=Integer))  # division by zero
    async with app.uow() as uow:
        await _begun(app, uow)
        with pytest.raises(DriverError) as refused:
            await direct.rows(session_of(uow), bad, {"zero": 0})

    assert not isinstance(refused.value, ConstraintViolation)
    assert "division by zero" in str(refused.value)
    assert not refused.value.connection_invalidated


async def test_a_connection_that_died_under_asyncpg_is_invalidated_and_says_so(app: App) -> None:
    _postgresql(app)
    async with app.uow() as uow:
        session = session_of(uow)
        await _begun(app, uow)
        pid = await session.scalar(select(func.pg_backend_pid()))
        async with app.engine.connect() as other:
            await other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        with pytest.raises(DriverError) as lost:
            await direct.rows(session, _KEY_USED, {"key": "k"})

    assert lost.value.connection_invalidated  # the bus runs the event again on a fresh one
    async with app.uow() as uow:
        await _begun(app, uow)
        assert await direct.rows(session_of(uow), _KEY_USED, {"key": "k"}) == []


async def test_a_read_on_asyncpg_sees_the_transactions_own_writes_and_not_after_rollback(
    app: App,
) -> None:
    _postgresql(app)
    at = app.clock.now() - timedelta(days=1)
    used = select(ProcessedEvent.event_key).where(ProcessedEvent.event_key == bindparam("k"))
    async with app.uow() as uow:
        session = session_of(uow)
        await _begun(app, uow)
        async with session.begin_nested():
            session.add(ProcessedEvent(event_key="mine", processed_at=at))  # pending, flushed
            assert await direct.rows(session, used, {"k": "mine"}) == [("mine",)]
            savepoint = session.get_nested_transaction()
            assert savepoint is not None
            await savepoint.rollback()
        assert await direct.rows(session, used, {"k": "mine"}) == []
