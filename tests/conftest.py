"""Shared fixtures.

The database under test comes from ``CHATCRM_TEST_DATABASE_URL`` (default: a SQLite file in a
temporary folder). The schema is built once per run by the real migration chain; every test
starts from empty tables. Tests that use the database are marked ``db`` automatically, and the
PostgreSQL run (``-m db`` with a PostgreSQL URL) fails loudly if PostgreSQL cannot be reached.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.bootstrap import App, bootstrap
from bot.config import Settings
from bot.core.clock import FrozenClock
from storage.db import create_engine, is_sqlite
from storage.migrate import upgrade
from storage.models import Base

DB_FIXTURES = {"engine", "app", "uow_factory"}


#: every test under it is end to end (servers, subprocesses, whole scenarios): marked ``e2e``
E2E_DIR = Path(__file__).parent / "e2e"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if DB_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.db)
        if item.path.is_relative_to(E2E_DIR):
            item.add_marker(pytest.mark.e2e)


#: on PostgreSQL each test run gets a schema of its own, so parallel runs cannot collide
PG_SCHEMA = f"chatcrm_test_{os.getpid()}"


def make_test_engine(url: str) -> AsyncEngine:
    """An engine on the test database (on PostgreSQL, inside this run's own schema)."""
    if is_sqlite(url):
        return create_engine(url)
    return create_engine(url, connect_args={"server_settings": {"search_path": PG_SCHEMA}})


async def _reset_schema(url: str) -> None:
    if not is_sqlite(url):
        admin = create_engine(url)
        try:
            async with admin.begin() as connection:
                await connection.execute(text(f'DROP SCHEMA IF EXISTS "{PG_SCHEMA}" CASCADE'))
                await connection.execute(text(f'CREATE SCHEMA "{PG_SCHEMA}"'))
        finally:
            await admin.dispose()
    engine = make_test_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


async def _drop_schema(url: str) -> None:
    admin = create_engine(url)
    try:
        async with admin.begin() as connection:
            await connection.execute(text(f'DROP SCHEMA IF EXISTS "{PG_SCHEMA}" CASCADE'))
    finally:
        await admin.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = os.environ.get("CHATCRM_TEST_DATABASE_URL")
    if not url:
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    try:
        asyncio.run(_reset_schema(url))
    except OSError as error:  # PostgreSQL not running: fail, never skip
        pytest.exit(f"cannot reach the test database {url}: {error}", returncode=3)
    yield url
    if not is_sqlite(url):
        asyncio.run(_drop_schema(url))


async def _truncate(engine: AsyncEngine) -> None:
    tables = [table.name for table in reversed(Base.metadata.sorted_tables)]
    async with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            for name in tables:
                await connection.execute(text(f'DELETE FROM "{name}"'))  # noqa: S608
            # ids start at 1 again, as PostgreSQL's RESTART IDENTITY makes them
            await connection.execute(text("DELETE FROM sqlite_sequence"))
        else:
            joined = ", ".join(f'"{name}"' for name in tables)
            await connection.execute(text(f"TRUNCATE {joined} RESTART IDENTITY CASCADE"))


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_test_engine(database_url)
    await _truncate(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
def clock() -> FrozenClock:
    # A Tuesday afternoon in Bangkok.
    return FrozenClock(datetime(2026, 3, 3, 7, 30, tzinfo=UTC))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        CHATCRM_DATABASE_URL="sqlite+aiosqlite:///unused.db",
        CHATCRM_PUBLIC_URL="https://shop.example",
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.fixture
async def app(engine: AsyncEngine, settings: Settings, clock: FrozenClock) -> App:
    return await bootstrap(settings=settings, clock=clock, engine=engine, migrate=False)


@pytest.fixture
def uow_factory(app: App) -> object:
    return app.uow
