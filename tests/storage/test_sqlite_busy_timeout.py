"""How long a SQLite statement waits for another connection's lock: 30 s, or the URL's
``timeout`` (seconds, as ``sqlite3.connect`` takes it), which the engine no longer overrides."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from storage.db import SQLITE_BUSY_TIMEOUT_MS, create_engine


async def _busy_timeout(url: str) -> int:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            value: int = (await connection.execute(text("PRAGMA busy_timeout"))).scalar_one()
            return value
    finally:
        await engine.dispose()


async def test_the_busy_timeout_is_30_s_unless_the_url_says(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'shop.db'}"
    assert await _busy_timeout(url) == SQLITE_BUSY_TIMEOUT_MS == 30_000
    assert await _busy_timeout(f"{url}?timeout=3600") == 3_600_000
    assert await _busy_timeout(f"{url}?timeout=0.25") == 250


@pytest.mark.parametrize("seconds", ["-1", "3000000"])
def test_a_busy_timeout_sqlite_cannot_take_is_refused(tmp_path: Path, seconds: str) -> None:
    with pytest.raises(ValueError, match="timeout must be 0 to 2147483 seconds"):
        create_engine(f"sqlite+aiosqlite:///{tmp_path / 'shop.db'}?timeout={seconds}")
