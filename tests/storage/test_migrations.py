"""The migration chain builds exactly the schema the models describe."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import create_engine
from storage.migrate import upgrade
from storage.models import Base


def _diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def test_migrated_schema_matches_models(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        diff = await connection.run_sync(_diff)
    assert diff == []


async def test_upgrading_a_populated_shop_starts_cached_balances_at_the_ledger_sum(
    tmp_path: Path,
) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")
    try:
        await upgrade(engine, "0001")
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO members (id, member_code, locale, joined_at, marketing_opt_in) "
                    "VALUES (1, 'AAAA2222', 'th', '2026-01-01 00:00:00', 0)"
                )
            )
            for delta in (50, 120, -30):
                await connection.execute(
                    text(
                        "INSERT INTO points_ledger (member_id, delta, reason, earned_at, "
                        "created_at) VALUES (1, :delta, 'sale', '2026-01-02 00:00:00', "
                        "'2026-01-02 00:00:00')"
                    ),
                    {"delta": delta},
                )
        await upgrade(engine)
        async with engine.connect() as connection:
            balance = await connection.execute(text("SELECT points_balance FROM members"))
            assert balance.scalar_one() == 140
    finally:
        await engine.dispose()
