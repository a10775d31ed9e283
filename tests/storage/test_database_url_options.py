"""libpq's ``options`` in a PostgreSQL URL becomes asyncpg's server settings (e.g. the schema);
a PostgreSQL on the same small machine gets fewer parallel workers."""

from __future__ import annotations

import os

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import (
    POOL_SIZE,
    asyncpg_options,
    create_engine,
    parallel_workers,
    server_options,
)

URL = "postgresql+asyncpg://shop@127.0.0.1:5432/crm"


def test_an_asyncpg_url_hands_its_options_over_as_server_settings() -> None:
    url = make_url(f"{URL}?options=-csearch_path%3Dshop_a%20-c%20statement_timeout%3D5s")
    bare, settings = asyncpg_options(url)
    assert bare.render_as_string(hide_password=False) == URL
    assert settings == {"search_path": "shop_a", "statement_timeout": "5s"}


def test_other_drivers_keep_their_options_in_the_url() -> None:
    url = make_url("postgresql+psycopg://shop@127.0.0.1/crm?options=-csearch_path%3Dshop_a")
    assert asyncpg_options(url) == (url, {})


def test_long_option_names_are_accepted_with_dashes_as_underscores() -> None:
    assert server_options("--search-path=shop_b") == {"search_path": "shop_b"}


@pytest.mark.parametrize("options", ["-d5", "-c search_path", "search_path=x"])
def test_options_that_are_not_settings_are_refused(options: str) -> None:
    with pytest.raises(ValueError, match="connection option"):
        server_options(options)


@pytest.mark.parametrize(
    ("url", "cpus", "workers"),
    [
        (URL, 2, "0"),  # the bot and the database share two cores: leave one to the bot
        (URL, 3, "1"),
        (URL, 4, None),  # PostgreSQL's own default (2) leaves enough
        ("postgresql+asyncpg://shop@localhost/crm", 1, "0"),
        ("postgresql+asyncpg://shop@/crm?host=/var/run/postgresql", 2, "0"),
        ("postgresql+asyncpg://shop@db.internal/crm", 2, None),  # its own machine
    ],
)
def test_a_database_on_the_same_small_machine_gets_fewer_parallel_workers(
    url: str, cpus: int, workers: str | None
) -> None:
    assert parallel_workers(make_url(url), cpus) == workers


async def test_the_parallel_workers_setting_reaches_the_server_and_the_url_wins(
    engine: AsyncEngine, database_url: str
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("a PostgreSQL setting")
    expected = parallel_workers(make_url(database_url), os.cpu_count())
    async with engine.connect() as connection:
        shown = (await connection.exec_driver_sql("SHOW max_parallel_workers_per_gather")).scalar()
    if expected is not None:
        assert shown == expected
    options = {"options": "-cmax_parallel_workers_per_gather=3"}
    url = make_url(database_url).update_query_dict(options)
    mine = create_engine(url.render_as_string(hide_password=False))
    try:
        async with mine.connect() as connection:
            sql = "SHOW max_parallel_workers_per_gather"
            assert (await connection.exec_driver_sql(sql)).scalar() == "3"
    finally:
        await mine.dispose()


async def test_a_postgresql_pool_keeps_as_many_connections_as_a_busy_server_uses() -> None:
    """Connections over the kept number are opened and closed again at every peak (a login,
    type look-ups, every statement prepared anew); the ceiling stays SQLAlchemy's 15."""
    engine = create_engine(URL)
    try:
        assert engine.pool.size() == POOL_SIZE  # type: ignore[attr-defined]
        assert POOL_SIZE + engine.pool._max_overflow == 15  # type: ignore[attr-defined]
    finally:
        await engine.dispose()
