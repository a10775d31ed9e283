"""Upgrade day from the operator's side: the shop chatcrm 6377c7e (schema 0019) ran, with work
in flight, upgraded by this release's ``chatcrm db upgrade`` and ``serve`` run as processes; a
``db upgrade`` killed on the way; an upgrade beside a server that is still running."""

from __future__ import annotations

import asyncio
import fcntl
import os
import shutil
import signal
import sqlite3
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import AsyncExitStack, closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from simulator.fakes.line_api import CHANNEL_SECRET, FakeLineApi
from storage.db import create_engine, is_sqlite
from storage.leader_lock import LOCK_CLASS
from storage.migrate import alembic_config, current_revision
from storage.sole_server import SUFFIX
from tests.e2e.operator_month_support import run_cli, start_serve, stop_serve, until
from tests.e2e.operator_support import environment, sqlite_url
from tests.storage.upgrade_day_support import old_shop, old_shop_file, shop_url, tallies

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
#: the newest revision this checkout migrates to
HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()


@pytest.mark.db
async def test_db_upgrade_of_the_old_shop_keeps_everything_and_a_second_run_does_nothing(
    database_url: str, tmp_path: Path
) -> None:
    async with old_shop(database_url, tmp_path, "e2eup") as engine:
        before = await tallies(engine)
        url = shop_url(database_url, engine, "e2eup")
        code, out, err = await run_cli(tmp_path, "db", "upgrade", CHATCRM_DATABASE_URL=url)
        assert code == 0, err[-2000:]
        assert f"from revision 0019 to {HEAD}" in out
        assert await current_revision(engine) == HEAD
        assert await tallies(engine) == before
        code, out, err = await run_cli(tmp_path, "db", "upgrade", CHATCRM_DATABASE_URL=url)
        assert code == 0, err[-2000:]
        assert await tallies(engine) == before


async def test_a_backup_the_old_release_took_restores_and_serve_upgrades_it(
    tmp_path: Path,
) -> None:
    live, backup, shop = old_shop_file(tmp_path), tmp_path / "backup.db", tmp_path / "shop.db"
    copied = await asyncio.create_subprocess_exec("sqlite3", str(live), f".backup {backup}")
    assert await copied.wait() == 0
    shutil.copyfile(backup, shop)  # restored, as the README says, into a stopped shop
    engine = create_engine(sqlite_url(shop))
    try:
        before = await tallies(engine)
        serve = await start_serve(tmp_path, CHATCRM_DATABASE_URL=sqlite_url(shop))
        await stop_serve(serve)
        assert await current_revision(engine) == HEAD
        after = await tallies(engine)
        # serve ran today's jobs and swept the conversations that lapsed since the backup
        for moved in ("job_runs", "conversation_states"):
            del before[moved], after[moved]
        assert after == before
    finally:
        await engine.dispose()


async def _kill_blocked_upgrade(engine: AsyncEngine, url: str, cwd: Path) -> None:
    """Start ``chatcrm db upgrade``, and SIGKILL it once it waits on the lock the caller holds."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "db",
        "upgrade",
        cwd=cwd,
        env=environment(CHATCRM_DATABASE_URL=url, PYTHONPATH=str(ROOT)),
    )
    if is_sqlite(url):
        database = str(url).split("///", 1)[1]
        fds = Path(f"/proc/{process.pid}/fd")

        def opened() -> bool:
            assert process.returncode is None, "db upgrade ended before it was killed"
            return any(os.path.realpath(fd) == database for fd in fds.iterdir())

        await until(opened, "db upgrade opened the database")
    else:
        async with engine.connect() as watching:
            await _until_waiting(watching)
    process.send_signal(signal.SIGKILL)
    await process.wait()


async def _until_waiting(connection: AsyncConnection) -> None:
    waiting = text(
        "SELECT COUNT(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
        "WHERE c.relname = 'sale_approvals' AND NOT l.granted"
    )
    for _ in range(1200):
        if (await connection.execute(waiting)).scalar_one():
            return
        await connection.rollback()
        await asyncio.sleep(0.1)
    raise AssertionError("db upgrade never waited for sale_approvals")


@pytest.mark.db
async def test_a_db_upgrade_killed_on_the_way_leaves_the_old_shop_whole_and_retryable(
    database_url: str, tmp_path: Path
) -> None:
    async with old_shop(database_url, tmp_path, "e2ekill") as engine:
        before = await tallies(engine)
        url = shop_url(database_url, engine, "e2ekill")
        if is_sqlite(database_url):
            holding = sqlite3.connect(url.split("///", 1)[1], isolation_level=None)
            holding.execute("BEGIN IMMEDIATE")
            await _kill_blocked_upgrade(engine, url, tmp_path)
            holding.rollback()
            holding.close()
        else:
            async with engine.connect() as locking:
                # 0020, 0021 and half of 0022 run, then it waits for the last table
                await locking.execute(text("LOCK TABLE sale_approvals IN ACCESS EXCLUSIVE MODE"))
                await _kill_blocked_upgrade(engine, url, tmp_path)
                await locking.rollback()
        assert await current_revision(engine) == "0019"
        assert await tallies(engine) == before
        code, _out, err = await run_cli(tmp_path, "db", "upgrade", CHATCRM_DATABASE_URL=url)
        assert code == 0, err[-2000:]
        assert await current_revision(engine) == HEAD
        assert await tallies(engine) == before


@contextmanager
def _serve_lock(database: str) -> Iterator[None]:
    """The lock a ``serve`` of this release holds beside its SQLite file while it runs."""
    with Path(f"{database}{SUFFIX}").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        yield


@pytest.mark.db
async def test_db_upgrade_beside_a_running_server_is_refused_and_changes_nothing(
    database_url: str, tmp_path: Path
) -> None:
    async with old_shop(database_url, tmp_path, "e2eroll") as engine:
        url = shop_url(database_url, engine, "e2eroll")
        async with engine.connect() as leader, AsyncExitStack() as held:
            if is_sqlite(database_url):  # what serve holds on SQLite
                held.enter_context(_serve_lock(str(engine.url).split("///", 1)[1]))
            else:  # what the leading serve holds on PostgreSQL
                taken = "SELECT pg_try_advisory_lock(:c, hashtext(current_schema()))"
                assert (await leader.execute(text(taken), {"c": LOCK_CLASS})).scalar_one()
                await leader.commit()
            code, out, err = await run_cli(tmp_path, "db", "upgrade", CHATCRM_DATABASE_URL=url)
        assert await current_revision(engine) == "0019"
        assert code == 2, out + err[-2000:]
        assert len(err.strip().splitlines()) == 1, err


def _daytime_zone() -> str:
    """A fixed-offset zone where it is early afternoon now: the held campaign goes out without
    waiting for the quiet hours to end, whatever the hour the suite runs at."""
    offset = (13 - datetime.now(UTC).hour + 12) % 24 - 12  # local = UTC + offset, -12..11
    return f"Etc/GMT{-offset:+d}" if offset else "UTC"  # Etc/GMT-7 is UTC+7


def _line_rows(database: Path, status: str) -> dict[int, str]:
    """The LINE outbox rows of ``status``: id → recipient."""
    with closing(sqlite3.connect(database)) as connection:
        rows = connection.execute(
            "SELECT id, user_id FROM outbox WHERE channel = 'line' AND status = ?", (status,)
        )
        return dict(rows.fetchall())


async def test_serve_on_the_upgraded_shop_pushes_each_queued_line_message_once(
    tmp_path: Path,
) -> None:
    shop = old_shop_file(tmp_path)
    queued, sent_before = _line_rows(shop, "pending"), _line_rows(shop, "sent")
    api = FakeLineApi()
    async with api.running():
        variables = {
            "CHATCRM_DATABASE_URL": sqlite_url(shop),
            "CHATCRM_TIMEZONE": _daytime_zone(),
            "LINE_CHANNEL_SECRET": CHANNEL_SECRET,
            "LINE_CHANNEL_ACCESS_TOKEN": api.access_token,
            "LINE_API_BASE": api.base_url,
            "LINE_DATA_API_BASE": api.base_url,
        }
        for name in ("serve-upgraded", "serve-again"):  # a restart sends nothing twice
            serve = await start_serve(tmp_path, name, **variables)
            try:
                await until(
                    lambda: not _line_rows(shop, "pending"), "the queued LINE messages sent"
                )
            finally:
                await stop_serve(serve)
        # besides the old queue, serve's jobs asked today's visitors for feedback: one message
        # a row, every row once
        sent_now = {k: v for k, v in _line_rows(shop, "sent").items() if k not in sent_before}
    assert set(queued) <= set(sent_now)
    recipients = Counter(sent_now.values())
    assert {user: len(api.messages_to(user)) for user in recipients} == dict(recipients)
