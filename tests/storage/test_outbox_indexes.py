"""The outbox's partial indexes (migration 0018): the migrated database has the conditions the
models declare, and the statements that walk the pending rows are planned on them for any
value of their parameters, which only a condition spelled literally allows (a bound
``status = ?`` proves the index's ``status = 'pending'`` to no plan made before the value is
known: PostgreSQL's generic plans, SQLite's statement before it is bound)."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Connection, inspect

from bot.bootstrap import App
from bot.core.clock import FrozenClock
from storage.migrate import current_revision, downgrade, upgrade
from storage.models import Base
from storage.uow import UnitOfWork
from tests.storage.migration_support import scratch_engine
from tests.storage.outbox_support import queue
from tests.storage.plan_support import captured_statement, plan_for_any_value

LEASE = timedelta(minutes=5)


def _words(condition: str) -> str:
    """A partial index's condition as either database writes it back, reduced to its words:
    PostgreSQL adds casts and parentheses (``((status)::text = 'pending'::text)``)."""
    condition = re.sub(r"::[a-z ]+", "", condition.lower())
    return " ".join(re.sub(r"[()]", " ", condition).split())


def _declared(dialect: str) -> dict[tuple[str, str], tuple[list[str], str]]:
    found = {}
    for table in Base.metadata.tables.values():
        for index in table.indexes:
            where = index.dialect_options[dialect].get("where")
            if where is not None:
                columns = [column.name for column in index.columns]
                found[table.name, str(index.name)] = (columns, _words(str(where)))
    return found


def _migrated(connection: Connection, dialect: str) -> dict[tuple[str, str], tuple[list[str], str]]:
    inspector = inspect(connection)
    found = {}
    for table in Base.metadata.tables:
        for index in inspector.get_indexes(table):
            where = index.get("dialect_options", {}).get(f"{dialect}_where")
            if where is not None:
                columns = [str(name) for name in index["column_names"]]
                found[table, str(index["name"])] = (columns, _words(str(where)))
    return found


async def test_the_migrated_partial_indexes_have_the_models_conditions(app: App) -> None:
    dialect = app.engine.dialect.name
    async with app.engine.connect() as connection:
        migrated = await connection.run_sync(_migrated, dialect)
    declared = _declared(dialect)
    assert ("outbox", "ix_outbox_pending") in declared  # the check below checks something
    assert migrated == declared


async def _claim(uow: UnitOfWork, clock: FrozenClock, urgent_only: bool = False) -> None:
    now = clock.now()
    await uow.outbox.claim(now, 100, now + LEASE, ["telegram", "line"], urgent_only=urgent_only)


@pytest.mark.parametrize(
    ("urgent_only", "index"), [(False, "ix_outbox_pending"), (True, "ix_outbox_urgent")]
)
async def test_a_claim_walks_the_partial_index_of_the_rows_it_may_take(
    app: App, clock: FrozenClock, urgent_only: bool, index: str
) -> None:
    for n in range(5):
        await queue(app, f"k{n}")
    sql, count = await captured_statement(app, lambda uow: _claim(uow, clock, urgent_only), "LIMIT")
    async with app.engine.connect() as connection:
        plan = await plan_for_any_value(connection, sql, count)
    assert index in plan, plan


async def test_the_check_whether_a_campaign_is_done_walks_the_pending_rows_only(
    app: App, clock: FrozenClock
) -> None:
    await queue(app, "cmp:7:1")

    async def finish(uow: UnitOfWork) -> None:
        await uow.promotions.finish_if_done(7, clock.now())

    sql, count = await captured_statement(app, finish, "EXISTS")
    async with app.engine.connect() as connection:
        plan = await plan_for_any_value(connection, sql, count)
    assert "ix_outbox_pending" in plan, plan


def _outbox_indexes(connection: Connection) -> dict[str, tuple[list[str], bool]]:
    """The outbox's indexes: their columns, and whether they are partial."""
    dialect = connection.dialect.name
    return {
        str(index["name"]): (
            [str(name) for name in index["column_names"]],
            f"{dialect}_where" in index.get("dialect_options", {}),
        )
        for index in inspect(connection).get_indexes("outbox")
        if not index["unique"]
    }


@pytest.mark.db
async def test_0018_goes_down_to_the_whole_status_indexes_and_up_again(
    database_url: str, tmp_path: Path
) -> None:
    partial = {
        "ix_outbox_pending": (["not_before", "id"], True),
        "ix_outbox_urgent": (["not_before", "id"], True),
        "ix_outbox_failed": (["channel"], True),
        "ix_outbox_member_time": (["member_id", "created_at"], False),
    }
    whole = {
        "ix_outbox_pending": (["status", "not_before"], False),
        "ix_outbox_urgent": (["status", "priority", "not_before"], False),
        "ix_outbox_member_time": (["member_id", "created_at"], False),
    }
    async with scratch_engine(database_url, tmp_path, "0018") as engine:
        await upgrade(engine, "0017")
        async with engine.connect() as connection:
            assert await connection.run_sync(_outbox_indexes) == whole
        await upgrade(engine)
        async with engine.connect() as connection:
            assert await connection.run_sync(_outbox_indexes) == partial
        await downgrade(engine, "0017")
        async with engine.connect() as connection:
            assert await connection.run_sync(_outbox_indexes) == whole
        await upgrade(engine, "0018")
        assert await current_revision(engine) == "0018"
