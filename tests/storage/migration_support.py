"""A scratch database for a migration test: migrated step by step, apart from the suite's."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import create_engine, is_sqlite


@asynccontextmanager
async def scratch_engine(database_url: str, tmp_path: Path, tag: str) -> AsyncIterator[AsyncEngine]:
    """An empty database of the kind under test: a SQLite file, or a PostgreSQL schema of its
    own (``tag`` tells the tests' schemas apart), dropped afterwards."""
    if is_sqlite(database_url):
        engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'scratch.db'}")
        try:
            yield engine
        finally:
            await engine.dispose()
        return
    schema = f"chatcrm_test_{os.getpid()}_{tag}"
    admin = create_engine(database_url)
    async with admin.begin() as connection:
        await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = create_engine(database_url, connect_args={"server_settings": {"search_path": schema}})
    try:
        yield engine
    finally:
        await engine.dispose()
        async with admin.begin() as connection:
            await connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()
