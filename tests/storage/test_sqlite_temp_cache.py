"""A SQLite connection's temporary tables (a campaign launch's stage) get a small page cache of
their own, not one as large as the database's, which the connection would keep while it lives."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from storage.db import SQLITE_TEMP_CACHE_KIB, create_engine


async def test_temporary_tables_have_a_small_page_cache(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'shop.db'}")
    try:
        async with engine.connect() as connection:
            temp = (await connection.execute(text("PRAGMA temp.cache_size"))).scalar_one()
            main = (await connection.execute(text("PRAGMA main.cache_size"))).scalar_one()
    finally:
        await engine.dispose()
    assert temp == -SQLITE_TEMP_CACHE_KIB  # negative: KiB
    assert main == -2000  # the database's own cache keeps SQLite's default
