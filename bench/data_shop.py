"""The benchmarks' big synthetic shops: built once through the bulk path, then reused.

A shop is named by its size (members, sales per member, seed). On SQLite it is a file under
``bench/.data/`` (git-ignored); on PostgreSQL a database of its own (``chatcrm_bench_…``,
created if missing) next to the one the URL names. A small ``bench_shop`` table in the shop
records how it was built, so a later run reuses it only when it is complete and the same size.
Loading into an empty shop drops the secondary indexes first and builds them once at the end
(``--indexes-during-load`` keeps them, to compare).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.bulk import create_indexes, drop_indexes, secondary_indexes
from storage.db import create_engine, is_sqlite
from storage.migrate import upgrade
from storage.models import ChannelIdentity, Consent, Member, PointsEntry, Sale, table_of
from storage.synthetic import generate_shop

DATA_DIR: Final = Path(__file__).parent / ".data"
#: the shop's "now": fixed, so the same seed gives the same shop and the same segment counts
NOW: Final = datetime(2026, 11, 1, 5, 0, tzinfo=UTC)
MONTHS: Final = 6
#: sales a member gets in six months per unit of visit_scale, near 10 a member (measured on the
#: generator: the scale is not quite linear because of the cap on fans and the one recent visit)
BASE_SALES_PER_MEMBER: Final = 3.74
DEFAULT_PG: Final = os.environ.get(
    "CHATCRM_BENCH_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
DEFAULT_SQLITE: Final = "sqlite+aiosqlite:///"  # the file name is filled in per shop
_LOADED_TABLES: Final = (Member, ChannelIdentity, Consent, PointsEntry, Sale)


@dataclass(frozen=True)
class ShopSize:
    members: int
    sales_per_member: float
    seed: int = 42

    @property
    def key(self) -> str:
        return f"{self.members}m_{round(self.sales_per_member * 10)}s_{self.seed}"


@dataclass(frozen=True)
class BuiltShop:
    url: str
    dialect: str
    members: int
    sales: int
    rows: int  # every row written: members, identities, consents, points entries, sales
    load_seconds: float  # generating and loading
    index_seconds: float  # building the secondary indexes after the load
    reused: bool

    @property
    def rows_per_second(self) -> float:
        return self.rows / (self.load_seconds + self.index_seconds)


def shop_url(base_url: str, size: ShopSize) -> str:
    """The URL of the shop of ``size`` on the database server (or SQLite) of ``base_url``."""
    if is_sqlite(base_url):
        DATA_DIR.mkdir(exist_ok=True)
        return f"sqlite+aiosqlite:///{DATA_DIR / f'shop_{size.key}.db'}"
    return make_url(base_url).set(database=f"chatcrm_bench_{size.key}").render_as_string(False)


def scratch_url(base_url: str, name: str) -> str:
    """A database of its own for a side-by-side run (``name`` is a plain identifier)."""
    if is_sqlite(base_url):
        DATA_DIR.mkdir(exist_ok=True)
        return f"sqlite+aiosqlite:///{DATA_DIR / f'{name}.db'}"
    return make_url(base_url).set(database=f"chatcrm_bench_{name}").render_as_string(False)


async def create_database(url: str, *, fresh: bool) -> None:
    """Make sure the database of ``url`` exists (empty when ``fresh``)."""
    if is_sqlite(url):
        path = Path(make_url(url).database or "")
        if fresh:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)  # noqa: ASYNC240 — set-up only
        return
    name = make_url(url).database
    admin = create_engine(
        make_url(url).set(database="postgres").render_as_string(False),
        isolation_level="AUTOCOMMIT",
    )
    try:
        async with admin.connect() as connection:
            found = await connection.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            )
            present = found.first() is not None
            if present and fresh:
                await connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
                present = False
            if not present:
                await connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await admin.dispose()


async def _recorded(
    engine: AsyncEngine, size: ShopSize
) -> tuple[int, int, int, float, float] | None:
    async with engine.connect() as connection:
        if is_sqlite(str(engine.url)):
            exists = "SELECT 1 FROM sqlite_master WHERE name = 'bench_shop'"
        else:
            exists = "SELECT 1 FROM pg_tables WHERE tablename = 'bench_shop'"
        if (await connection.execute(text(exists))).first() is None:
            return None
        row = (
            await connection.execute(
                text(
                    "SELECT members, sales, total_rows, load_seconds, index_seconds "
                    "FROM bench_shop WHERE shop = :key"
                ),
                {"key": size.key},
            )
        ).first()
    return None if row is None else (int(row[0]), int(row[1]), int(row[2]), row[3], row[4])


async def build_shop(
    base_url: str,
    size: ShopSize,
    *,
    fresh: bool = False,
    indexes_during_load: bool = False,
    chunk_members: int = 5_000,
    verbose: bool = False,
) -> tuple[AsyncEngine, BuiltShop]:
    """The shop of ``size`` on ``base_url``'s server: reused when complete, else built from
    empty. Returns an engine on it (the caller disposes of it) and how it was built."""
    url = shop_url(base_url, size)
    dialect = "sqlite" if is_sqlite(url) else "postgresql"
    await create_database(url, fresh=fresh)
    engine = create_engine(url)
    if not fresh and (recorded := await _recorded(engine, size)) is not None:
        members, sales, rows, load, index = recorded
        await upgrade(engine)  # a shop cached by an older version gets the newer migrations
        return engine, BuiltShop(url, dialect, members, sales, rows, load, index, reused=True)
    await engine.dispose()
    built = await _build_from_empty(
        url,
        dialect,
        size,
        indexes_during_load=indexes_during_load,
        chunk_members=chunk_members,
        verbose=verbose,
    )
    return create_engine(url), built


async def _build_from_empty(
    url: str,
    dialect: str,
    size: ShopSize,
    *,
    indexes_during_load: bool,
    chunk_members: int,
    verbose: bool,
) -> BuiltShop:
    """Empty the shop's database, generate the shop into it and record how it was built."""
    await create_database(url, fresh=True)
    engine = _loading_engine(url)
    await upgrade(engine)
    indexes = secondary_indexes([table_of(model) for model in _LOADED_TABLES])
    if not indexes_during_load:
        async with engine.begin() as connection:
            await drop_indexes(connection, indexes)

    def progress(_stage: str, done: int, total: int) -> None:
        if verbose and done % 100_000 == 0:
            print(f"  {dialect}: {done:,}/{total:,} members", flush=True)

    began = time.perf_counter()
    summary = await generate_shop(
        engine,
        members=size.members,
        months=MONTHS,
        seed=size.seed,
        now=NOW,
        progress=progress,
        chunk_members=chunk_members,
        visit_scale=size.sales_per_member / BASE_SALES_PER_MEMBER,
    )
    load_seconds = time.perf_counter() - began
    began = time.perf_counter()
    async with engine.begin() as connection:
        await create_indexes(connection, indexes)
    # statistics for the planner, and on PostgreSQL the visibility map too: without a VACUUM
    # after the bulk load, index-only scans still read every table row (a shop in use has
    # had autovacuum long before it has ten million sales)
    statement = "VACUUM ANALYZE" if dialect == "postgresql" else "ANALYZE"
    async with engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        await autocommit.execute(text(statement))
    index_seconds = time.perf_counter() - began
    # members, identities, two consents each, points entries, sales
    rows = summary.members * 4 + summary.points_entries + summary.sales
    built = BuiltShop(
        url, dialect, summary.members, summary.sales, rows, load_seconds, index_seconds, False
    )
    await _record(engine, size, built)
    await engine.dispose()
    return built


async def _record(engine: AsyncEngine, size: ShopSize, built: BuiltShop) -> None:
    """Write how the shop was built into its ``bench_shop`` table (what marks it complete)."""
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "CREATE TABLE IF NOT EXISTS bench_shop (shop VARCHAR(64) PRIMARY KEY, "
                "members BIGINT, sales BIGINT, total_rows BIGINT, load_seconds FLOAT, "
                "index_seconds FLOAT)"
            )
        )
        await connection.execute(
            text("INSERT INTO bench_shop VALUES (:key, :members, :sales, :rows, :load, :index)"),
            {
                "key": size.key,
                "members": built.members,
                "sales": built.sales,
                "rows": built.rows,
                "load": built.load_seconds,
                "index": built.index_seconds,
            },
        )


def _loading_engine(url: str) -> AsyncEngine:
    """An engine for filling an empty shop: the generator's rows are consistent by
    construction, so foreign-key checks (a trigger per row on PostgreSQL) and waiting for the
    disk at each commit are switched off for this engine's connections only."""
    if not is_sqlite(url):
        settings = {"session_replication_role": "replica", "synchronous_commit": "off"}
        return create_engine(url, connect_args={"server_settings": settings})
    engine = create_engine(url)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:  # after the default hook
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=OFF")
        cursor.execute("PRAGMA synchronous=OFF")
        cursor.close()

    return engine


async def reachable(url: str) -> bool:
    """Whether the database server of ``url`` answers (PostgreSQL may not run everywhere)."""
    if is_sqlite(url):
        return True
    engine = create_engine(make_url(url).set(database="postgres").render_as_string(False))
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        return True
    except (OSError, Exception):
        return False
    finally:
        await engine.dispose()
