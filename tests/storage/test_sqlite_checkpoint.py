"""SQLite's WAL is copied back by a thread beside the commits (``storage/sqlite_checkpoint.py``):
a commit that takes the WAL past SQLite's 1,000 pages does not copy it itself, and every event
queued behind the one writer does not wait for that copy and its syncs."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text

import storage.sqlite_checkpoint as checkpointing
from storage.db import create_engine
from storage.sqlite_checkpoint import BACKSTOP_PAGES, Checkpointer, checkpoint

PAGE = 4096
PAGES = 1_500  # past SQLite's automatic checkpoint of 1,000 pages


def _db_pages(path: Path) -> int:
    return path.stat().st_size // PAGE


_FILL = (
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :k) "
    "INSERT INTO blob_rows SELECT randomblob(:size) FROM n"
)


async def _write_pages(path: Path) -> tuple[int, int]:
    """The file's pages after a commit of :data:`PAGES` pages on an engine, and after a
    ``PASSIVE`` checkpoint of its WAL (the engine still open: the last connection to close
    would copy the WAL back itself)."""
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        async with engine.connect() as connection:
            pages = (await connection.execute(text("PRAGMA wal_autocheckpoint"))).scalar_one()
            assert pages == BACKSTOP_PAGES
            await connection.execute(text("CREATE TABLE blob_rows (body BLOB)"))
            await connection.execute(text(_FILL), {"k": PAGES, "size": PAGE - 200})
            await connection.commit()
        committed = _db_pages(path)
        connection = sqlite3.connect(path)
        try:
            busy, frames, copied = checkpoint(connection)
        finally:
            connection.close()
        assert busy == 0
        assert frames == copied >= PAGES
        return committed, _db_pages(path)
    finally:
        await engine.dispose()


async def test_a_commit_past_a_thousand_pages_leaves_the_copy_to_the_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(checkpointing, "EVERY_SECONDS", 3600.0)  # the thread asleep meanwhile
    committed, copied = await _write_pages(tmp_path / "shop.db")
    assert committed < PAGES // 10  # the commit left its pages in the WAL
    assert copied >= PAGES


async def test_the_thread_copies_the_wal_back_and_stops(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "shop.db"
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("PRAGMA wal_autocheckpoint=0")
    writer.execute("CREATE TABLE blob_rows (body BLOB)")
    writer.execute(_FILL.replace(":k", str(PAGES)).replace(":size", str(PAGE - 200)))
    assert _db_pages(path) < PAGES // 10
    monkeypatch.setattr(checkpointing, "EVERY_SECONDS", 0.01)
    checkpointer = Checkpointer(lambda: sqlite3.connect(path), "normal")
    checkpointer.start()
    assert checkpointer.running
    try:
        for _ in range(3000):  # a generous deadline; no duration is asserted
            if _db_pages(path) >= PAGES:
                break
            await asyncio.sleep(0.01)
    finally:
        checkpointer.stop()
        writer.close()
    assert not checkpointer.running
    assert _db_pages(path) >= PAGES
