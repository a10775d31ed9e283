"""The plan of a statement the product runs, made for any value of its parameters: tests that
a read is planned on an index (plans, not timings)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.bootstrap import App
from storage.uow import UnitOfWork

Step = Callable[[UnitOfWork], Awaitable[Any]]


async def captured_statement(
    app: App, step: Step, marker: str, *, commit: bool = True
) -> tuple[str, int]:
    """The one statement ``step`` runs whose SQL contains ``marker``, and how many parameters
    it binds (``commit``: the unit of work is committed after ``step``, else rolled back)."""
    seen: list[tuple[str, int]] = []

    def record(_c: object, _cur: object, sql: str, params: Any, *_rest: object) -> None:
        if marker in sql:
            seen.append((sql, len(params or ())))

    event.listen(app.engine.sync_engine, "before_cursor_execute", record)
    try:
        async with app.uow() as uow:
            await step(uow)
            if commit:
                await uow.commit()
    finally:
        event.remove(app.engine.sync_engine, "before_cursor_execute", record)
    assert len(seen) == 1, seen
    return seen[0]


async def plan_for_any_value(connection: AsyncConnection, sql: str, count: int) -> str:
    """The plan of ``sql`` made without its parameters' values: SQLite's, prepared before
    they are bound (every one bound NULL); PostgreSQL's generic plan of the prepared SQL, with
    sequential scans priced out (a test's tables hold a few rows), so a scan that remains has
    no index to use."""
    if connection.dialect.name == "sqlite":
        rows = await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", (None,) * count)
        return "\n".join(str(row[-1]) for row in rows)
    await connection.exec_driver_sql("SET LOCAL plan_cache_mode = force_generic_plan")
    await connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
    await connection.exec_driver_sql(f"PREPARE planned AS {sql}")
    nulls = ", ".join(["NULL"] * count)
    rows = await connection.exec_driver_sql(f"EXPLAIN EXECUTE planned({nulls})")
    return "\n".join(str(row[0]) for row in rows)
