"""A shop built by chatcrm 6377c7e (schema 0019), upgraded by this chatcrm.

``tests/data/upgrade/shop_0019.db.gz`` was made by that release's own code (see
``tests/data/upgrade/README.md``). On SQLite the file itself is upgraded; on PostgreSQL its
rows are copied into a schema this chatcrm migrated to 0019 (the migrations up to 0019 are the
old release's, unchanged), as a ``pg_dump`` of that shop would restore them, then upgraded.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote

from sqlalchemy import Connection, MetaData, func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.bootstrap import App, bootstrap
from bot.config import Settings
from bot.core.clock import FrozenClock
from storage.db import create_engine, is_sqlite
from storage.migrate import upgrade
from tests.storage.migration_support import scratch_engine

DATA: Final = Path(__file__).parent.parent / "data" / "upgrade"
#: what the old release said and showed while the shop was built
NOTES: Final[dict[str, Any]] = json.loads((DATA / "shop_0019.json").read_text())
#: 14:05 in Bangkok: five minutes after the old shop's half-finished sign-up and console sign-in
SOON: Final = datetime(2026, 12, 7, 7, 5, tzinfo=UTC)
#: 22:30 in Bangkok: the old shop's last moment
NIGHT: Final = datetime(2026, 12, 7, 15, 30, tzinfo=UTC)
#: 09:30 the next morning: upgrade day, after the quiet hours
MORNING: Final = datetime(2026, 12, 8, 2, 30, tzinfo=UTC)


def old_shop_file(tmp_path: Path) -> Path:
    """A fresh copy of the old release's SQLite file."""
    path = tmp_path / "old-shop.db"
    with gzip.open(DATA / "shop_0019.db.gz") as packed, path.open("wb") as out:
        shutil.copyfileobj(packed, out)
    return path


def _reflect(connection: Connection) -> MetaData:
    metadata = MetaData()
    metadata.reflect(connection)
    return metadata


def _utc(value: object) -> object:
    return value.replace(tzinfo=UTC) if isinstance(value, datetime) and not value.tzinfo else value


async def _copy_rows(source: AsyncEngine, target: AsyncEngine) -> None:
    async with source.connect() as reading:
        metadata = await reading.run_sync(_reflect)
        tables = [t for t in metadata.sorted_tables if t.name != "alembic_version"]
        rows = {t.name: (await reading.execute(select(t))).mappings().all() for t in tables}
    async with target.begin() as writing:
        target_meta = await writing.run_sync(_reflect)
        for table in tables:
            if rows[table.name]:
                values = [{k: _utc(v) for k, v in row.items()} for row in rows[table.name]]
                await writing.execute(target_meta.tables[table.name].insert(), values)
            if "id" in table.c:  # the next id after the copied ones, as on the old shop
                last = f'SELECT COALESCE(MAX(id), 0) + 1 FROM "{table.name}"'  # noqa: S608
                await writing.execute(
                    text(f"SELECT setval(pg_get_serial_sequence(:t, 'id'), ({last}), false)"),
                    {"t": table.name},
                )


@asynccontextmanager
async def old_shop(database_url: str, tmp_path: Path, tag: str) -> AsyncIterator[AsyncEngine]:
    """The old release's shop, not yet upgraded (schema 0019), on the database under test."""
    path = old_shop_file(tmp_path)
    if is_sqlite(database_url):
        engine = create_engine(f"sqlite+aiosqlite:///{path}")
        try:
            yield engine
        finally:
            await engine.dispose()
        return
    async with scratch_engine(database_url, tmp_path, tag) as engine:
        await upgrade(engine, "0019")
        source = create_engine(f"sqlite+aiosqlite:///{path}")
        try:
            await _copy_rows(source, engine)
        finally:
            await source.dispose()
        yield engine


def shop_url(database_url: str, engine: AsyncEngine, tag: str) -> str:
    """The URL a ``chatcrm`` process reaches :func:`old_shop`'s database with."""
    if is_sqlite(database_url):
        return str(engine.url)
    schema = f"chatcrm_test_{os.getpid()}_{tag}"  # as tests.storage.migration_support names it
    return f"{database_url}?options={quote(f'-csearch_path={schema}')}"


async def tallies(engine: AsyncEngine) -> dict[str, object]:
    """What must not change across an upgrade: every table's row count and the money."""
    async with engine.connect() as connection:
        metadata = await connection.run_sync(_reflect)
        found: dict[str, object] = {}
        for table in metadata.sorted_tables:
            if table.name != "alembic_version":
                count = select(func.count()).select_from(table)
                found[table.name] = (await connection.execute(count)).scalar_one()
        for name, sql in _MONEY.items():
            found[name] = (await connection.execute(text(sql))).all()
    return found


_MONEY: Final = {
    "balances": "SELECT id, points_balance FROM members ORDER BY id",
    "ledger": "SELECT member_id, SUM(delta) FROM points_ledger GROUP BY member_id ORDER BY 1",
    "coupons": "SELECT code, status, member_id FROM coupons ORDER BY code",
    "sales": "SELECT receipt_no, branch_id, CAST(amount AS TEXT) FROM sales ORDER BY receipt_no",
    "outbox": "SELECT dedupe_key, status FROM outbox ORDER BY dedupe_key",
}


async def upgraded_app(engine: AsyncEngine, settings: Settings, clock: FrozenClock) -> App:
    """The old shop upgraded by this release, and this release's app on it."""
    await upgrade(engine)
    return await bootstrap(settings=settings, clock=clock, engine=engine, migrate=False)


async def scalar(engine: AsyncEngine, sql: str, **params: object) -> object:
    async with engine.connect() as connection:
        return (await connection.execute(text(sql), params)).scalar_one()
