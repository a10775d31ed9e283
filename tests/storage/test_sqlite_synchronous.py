"""CHATCRM_SQLITE_SYNCHRONOUS: what a commit waits for on SQLite, read back from the connection
the shop's units of work use."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from bot.bootstrap import bootstrap
from bot.cli import ConfigError, load_settings

# PRAGMA synchronous reads back as a number: 1 NORMAL, 2 FULL
NORMAL, FULL = 1, 2


async def synchronous_of(database: Path, monkeypatch: pytest.MonkeyPatch, value: str | None) -> int:
    monkeypatch.setenv("CHATCRM_DATABASE_URL", f"sqlite+aiosqlite:///{database}")
    if value is None:
        monkeypatch.delenv("CHATCRM_SQLITE_SYNCHRONOUS", raising=False)
    else:
        monkeypatch.setenv("CHATCRM_SQLITE_SYNCHRONOUS", value)
    app = await bootstrap(load_settings())
    try:
        async with app.engine.connect() as connection:  # a connection of the shop's pool
            result = await connection.execute(text("PRAGMA synchronous"))
            return int(result.scalar_one())
    finally:
        await app.close()


async def test_default_is_normal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no .env of the checkout
    assert await synchronous_of(tmp_path / "shop.db", monkeypatch, None) == NORMAL


@pytest.mark.parametrize("value", ["full", "FULL", " Full "])
async def test_full_takes_effect(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.chdir(tmp_path)
    assert await synchronous_of(tmp_path / "shop.db", monkeypatch, value) == FULL


def test_unknown_value_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CHATCRM_SQLITE_SYNCHRONOUS", "off")
    with pytest.raises(ConfigError, match="CHATCRM_SQLITE_SYNCHRONOUS"):
        load_settings()
