"""A SQLite shop's file deleted or replaced under the process that opened it: ``SELECT 1``
still answers from the file held open, so :mod:`storage.sqlite_file` compares the path with
the file opened (the server's own view is ``tests/e2e/test_operator_lost_file_from_outside.py``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import text

from storage.db import READ_ONLY, create_engine, ping
from storage.errors import DriverError
from storage.sqlite_file import shop_file_problem


async def test_the_file_opened_deleted_or_replaced_is_a_problem(tmp_path: Path) -> None:
    database = tmp_path / "shop.db"
    engine = create_engine(f"sqlite+aiosqlite:///{database}")
    try:
        assert shop_file_problem(engine) is None  # nothing opened yet
        await ping(engine)
        assert shop_file_problem(engine) is None
        other = tmp_path / "other.db"
        other.write_bytes(database.read_bytes())
        os.replace(other, database)  # a copy put in its place: another file
        assert "replaced" in (shop_file_problem(engine) or "")
        database.unlink()
        assert "deleted" in (shop_file_problem(engine) or "")
        await ping(engine)  # still answers, from the file held open
    finally:
        await engine.dispose()


async def test_a_memory_database_has_no_file_to_watch() -> None:
    engine = create_engine("sqlite+aiosqlite:///:memory:")
    try:
        await ping(engine)
        assert shop_file_problem(engine) is None
    finally:
        await engine.dispose()


async def test_a_write_is_not_committed_into_a_deleted_file(tmp_path: Path) -> None:
    database = tmp_path / "shop.db"
    engine = create_engine(f"sqlite+aiosqlite:///{database}")
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE t (x INTEGER)"))
        database.unlink()
        with pytest.raises(DriverError, match="deleted"):
            async with engine.begin() as connection:
                await connection.execute(text("INSERT INTO t VALUES (1)"))
        async with engine.connect() as connection:  # a read still commits: nothing to lose
            await connection.execution_options(**{READ_ONLY: True})
            await connection.execute(text("SELECT count(*) FROM t"))
            await connection.commit()
    finally:
        await engine.dispose()


async def test_a_write_refused_as_full_is_a_problem_while_reads_still_answer(
    tmp_path: Path,
) -> None:
    database = tmp_path / "shop.db"
    engine = create_engine(f"sqlite+aiosqlite:///{database}")
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE t (x BLOB)"))
        async with engine.connect() as connection:  # SQLite's own full: the page count
            pages = (await connection.execute(text("PRAGMA page_count"))).scalar_one()
            await connection.execute(text(f"PRAGMA max_page_count = {pages}"))
            with pytest.raises(DriverError, match="full"):
                await connection.execute(text("INSERT INTO t VALUES (zeroblob(1000000))"))
        assert "full" in (shop_file_problem(engine) or "")
        await ping(engine)  # reads answer: SELECT 1 alone would say healthy
    finally:
        await engine.dispose()
