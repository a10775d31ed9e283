"""A statement whose caller is cancelled (a live count whose client left the page) stops on the
database too: PostgreSQL gets a cancel request from asyncpg. (SQLite's interrupt is in
``test_sqlite_driver.py``.)"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import is_sqlite, session_factory
from storage.raw_session import session_of
from storage.uow import UnitOfWork

SLEEP = "SELECT pg_sleep(600) AS a_count_at_1m"
RUNNING = text("SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE :query")


async def _running(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        found = await connection.execute(RUNNING, {"query": f"{SLEEP}%"})
        return int(found.scalar_one())


async def _until(engine: AsyncEngine, wanted: int) -> None:
    """Look again and again: the server's activity view has no event to wait for."""
    for _ in range(600):
        if await _running(engine) == wanted:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{SLEEP!r} still not at {wanted} running")


async def test_a_cancelled_statement_stops_on_postgresql(engine: AsyncEngine) -> None:
    if is_sqlite(str(engine.url)):
        pytest.skip("PostgreSQL only")

    async def count() -> None:
        async with UnitOfWork(session_factory(engine)) as uow:
            await session_of(uow).execute(text(SLEEP))

    counting = asyncio.create_task(count())
    await _until(engine, 1)
    counting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await counting
    await _until(engine, 0)
    async with UnitOfWork(session_factory(engine)) as uow:  # the pool serves again
        assert (await session_of(uow).execute(text("SELECT 1"))).scalar_one() == 1
