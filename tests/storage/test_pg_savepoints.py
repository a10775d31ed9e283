"""PostgreSQL savepoints (``storage/db.py``): taken as text, the first ones of a transaction
left open, and what they hold still kept or undone as a released one's would be."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import OPEN_SAVEPOINTS, PREPARED_STATEMENTS, create_engine
from storage.models import ProcessedEvent, table_of


@pytest.fixture(autouse=True)
def _postgres_only(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's savepoints")


def _record(key: str) -> Any:
    table = table_of(ProcessedEvent)
    return table.insert().values(event_key=key, processed_at=datetime(2026, 3, 3, tzinfo=UTC))


async def test_a_loop_of_savepoints_releases_those_past_the_open_ones(engine: AsyncEngine) -> None:
    statements: list[str] = []

    def _count(_c: Any, _cur: Any, statement: str, *_rest: Any) -> None:
        statements.append(" ".join(statement.split()[:2]))

    event.listen(engine.sync_engine, "before_cursor_execute", _count)
    try:
        async with engine.begin() as connection:
            for number in range(OPEN_SAVEPOINTS + 8):
                async with connection.begin_nested():
                    await connection.execute(_record(f"loop:{number}"))
            undone = await connection.begin_nested()
            await connection.execute(_record("loop:undone"))
            await undone.rollback()
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", _count)

    assert statements.count("RELEASE SAVEPOINT") == 8
    async with engine.connect() as connection:
        count = select(func.count()).where(ProcessedEvent.event_key.like("loop:%"))
        assert (await connection.execute(count)).scalar_one() == OPEN_SAVEPOINTS + 8


async def test_every_transaction_starts_with_none_open(engine: AsyncEngine) -> None:
    for _ in range(2):
        statements: list[str] = []

        def _count(_c: Any, _cur: Any, statement: str, *_rest: Any) -> None:
            statements.append(statement.split()[0])  # noqa: B023 - used within the loop

        event.listen(engine.sync_engine, "before_cursor_execute", _count)
        try:
            async with engine.begin() as connection:
                for number in range(3):
                    async with connection.begin_nested():
                        await connection.execute(_record(f"again:{len(statements)}:{number}"))
                await connection.rollback()
        finally:
            event.remove(engine.sync_engine, "before_cursor_execute", _count)
        assert "RELEASE" not in statements


async def test_asyncpg_keeps_more_statements_prepared_unless_the_url_says(
    engine: AsyncEngine, database_url: str
) -> None:
    async with engine.connect() as connection:
        raw = await connection.get_raw_connection()
        assert raw.dbapi_connection._prepared_statement_cache.capacity == PREPARED_STATEMENTS  # type: ignore[union-attr]
    own = create_engine(f"{database_url}?prepared_statement_cache_size=7")
    try:
        async with own.connect() as connection:
            raw = await connection.get_raw_connection()
            assert raw.dbapi_connection._prepared_statement_cache.capacity == 7  # type: ignore[union-attr]
    finally:
        await own.dispose()
