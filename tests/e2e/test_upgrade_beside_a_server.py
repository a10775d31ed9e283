"""Migrating on open beside a running server, from the operator's side: with migrations pending,
a command that opens the database (``import`` here) is refused while another chatcrm server
runs on it, and changes nothing; with nothing pending it runs beside the server as always; on
PostgreSQL, servers started together on a shop to upgrade still all start."""

from __future__ import annotations

import asyncio
import fcntl
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import is_sqlite
from storage.leader_lock import LOCK_CLASS
from storage.migrate import alembic_config, current_revision
from storage.sole_server import SUFFIX
from tests.e2e.operator_month_support import run_cli, start_serve, stop_serve
from tests.storage.upgrade_day_support import old_shop, shop_url, tallies

pytestmark = [pytest.mark.e2e, pytest.mark.db]

#: the newest revision this checkout migrates to
HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()


@contextmanager
def _flocked(path: Path) -> Iterator[None]:
    with path.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        yield


@asynccontextmanager
async def _a_server_runs(engine: AsyncEngine) -> AsyncIterator[None]:
    """What a running ``serve`` of this chatcrm holds: the flock on ``shop.db.lock`` beside a
    SQLite file, the leader lock of a PostgreSQL schema."""
    if is_sqlite(str(engine.url)):
        database = str(engine.url).split("///", 1)[1]
        with _flocked(Path(f"{database}{SUFFIX}")):
            yield
        return
    async with engine.connect() as leader:
        taken = "SELECT pg_try_advisory_lock(:c, hashtext(current_schema()))"
        assert (await leader.execute(text(taken), {"c": LOCK_CLASS})).scalar_one()
        await leader.commit()
        yield


def _members_csv(tmp_path: Path) -> Path:
    path = tmp_path / "new-members.csv"
    path.write_text("name,phone\nNok Beside,0891234567\n", encoding="utf-8")
    return path


async def test_import_with_migrations_pending_beside_a_server_is_refused_and_changes_nothing(
    database_url: str, tmp_path: Path
) -> None:
    async with old_shop(database_url, tmp_path, "besidepend") as engine:
        url = shop_url(database_url, engine, "besidepend")
        before = await tallies(engine)
        async with _a_server_runs(engine):
            code, out, err = await run_cli(
                tmp_path, "import", "members", str(_members_csv(tmp_path)), CHATCRM_DATABASE_URL=url
            )
        assert code == 2, out + err[-2000:]
        assert len(err.strip().splitlines()) == 1, err
        assert "stop every chatcrm serve and polling process" in err
        assert "`chatcrm db upgrade`" in err
        assert await current_revision(engine) == "0019"
        assert await tallies(engine) == before


async def test_import_with_nothing_pending_runs_beside_a_server(
    database_url: str, tmp_path: Path
) -> None:
    async with old_shop(database_url, tmp_path, "besidedone") as engine:
        url = shop_url(database_url, engine, "besidedone")
        code, _out, err = await run_cli(tmp_path, "db", "upgrade", CHATCRM_DATABASE_URL=url)
        assert code == 0, err[-2000:]
        before = await tallies(engine)
        async with _a_server_runs(engine):
            code, out, err = await run_cli(
                tmp_path, "import", "members", str(_members_csv(tmp_path)), CHATCRM_DATABASE_URL=url
            )
            assert code == 0, out + err[-2000:]
            code, out, err = await run_cli(tmp_path, "db", "upgrade", CHATCRM_DATABASE_URL=url)
            assert code == 0, out + err[-2000:]
            assert "already at the latest schema" in out
        after = await tallies(engine)
        assert after["members"] == before["members"] + 1  # type: ignore[operator]
        assert await current_revision(engine) == HEAD


async def test_servers_started_together_on_a_shop_to_upgrade_all_start(
    database_url: str, tmp_path: Path
) -> None:
    if is_sqlite(database_url):
        pytest.skip("several serve processes share one PostgreSQL database; SQLite is one process")
    async with old_shop(database_url, tmp_path, "together") as engine:
        url = shop_url(database_url, engine, "together")
        # the first to take the migration lock upgrades; the others wait for it, then find
        # nothing pending, and none of them leads before that
        serves = await asyncio.gather(
            *(start_serve(tmp_path, name, CHATCRM_DATABASE_URL=url) for name in ("a", "b", "c"))
        )
        try:
            assert all(serve.process.returncode is None for serve in serves)
            assert await current_revision(engine) == HEAD
        finally:
            for serve in serves:
                await stop_serve(serve)
