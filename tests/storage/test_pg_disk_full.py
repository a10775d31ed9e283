"""A full disk on PostgreSQL: every write fails with SQLSTATE 53100 while ``SELECT 1`` still
answers, so ``/healthz`` said ok while every webhook was refused. A write refused so makes
``/healthz`` 503 for a minute (:mod:`storage.disk_full`), as SQLite's "database or disk is
full" does. The server raises the same SQLSTATE here as when it cannot extend a file."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from bot import web
from bot.bootstrap import App
from storage.disk_full import disk_full_problem

UNAVAILABLE = {"status": "error", "database": "unavailable"}
#: what a full data directory answers an INSERT that needs a new page
FULL = "DO $$ BEGIN RAISE EXCEPTION 'could not extend file' USING ERRCODE = 'disk_full'; END $$"
OTHER = "DO $$ BEGIN RAISE EXCEPTION 'duplicate' USING ERRCODE = 'unique_violation'; END $$"


async def test_healthz_is_503_after_a_write_failed_for_a_full_disk(app: App) -> None:
    if app.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's disk_full; SQLite's is in tests/unit/test_sqlite_file.py")
    client = TestClient(TestServer(web.build_web_app(app, [])))
    await client.start_server()
    try:
        assert (await client.get("/healthz")).status == 200
        async with app.engine.connect() as connection:
            with pytest.raises(DBAPIError):
                await connection.execute(text(OTHER))  # another refusal says nothing
        assert disk_full_problem(app.engine) is None
        async with app.engine.connect() as connection:
            with pytest.raises(DBAPIError):
                await connection.execute(text(FULL))
        answer = await client.get("/healthz")
        assert (answer.status, await answer.json()) == (503, UNAVAILABLE)
        assert "disk is full" in (disk_full_problem(app.engine) or "")
    finally:
        await client.close()
