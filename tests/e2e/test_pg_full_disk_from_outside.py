"""PostgreSQL's disk full under a running ``serve``: the shop's database in a tablespace on a
small disk of its own, filled. Writes fail with "could not extend file" (SQLSTATE 53100) while
``SELECT 1`` still answers: webhooks must be refused (LINE delivers them again once there is
room) and ``/healthz`` must say so, as it does for SQLite's full disk.

Needs root (to mount the disk) and the PostgreSQL server on this machine (to put a tablespace
on it): skipped elsewhere, and on SQLite."""

from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from simulator.fakes.line_api import CHANNEL_SECRET, FakeLineApi
from simulator.fakes.line_webhooks import text_event
from storage.db import create_engine, is_sqlite
from tests.e2e.operator_month_support import post_line, start_serve, stop_serve, until
from tests.e2e.test_operator_lost_file_from_outside import UNAVAILABLE, _fill, _healthz

pytestmark = pytest.mark.e2e

#: events sent until one needs a page the full disk cannot give (each new user writes rows to
#: several tables; a few dozen fill a page of one of them)
MOST_EVENTS = 400


def _mount_small_disk() -> Path | None:
    where = Path(tempfile.mkdtemp(prefix="chatcrm-pgfull-"))
    where.chmod(0o755)  # the server's own user walks into it
    mounted = subprocess.run(  # noqa: S603 (fixed arguments)
        ["mount", "-t", "tmpfs", "-o", "size=32m", "tmpfs", str(where)],  # noqa: S607
        capture_output=True,
        check=False,
    )
    owned = subprocess.run(  # noqa: S603
        ["chown", "postgres:postgres", str(where)],  # noqa: S607
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0 or owned.returncode != 0:
        _unmount(where)
        return None
    return where


def _unmount(disk: Path) -> None:
    subprocess.run(["umount", str(disk)], capture_output=True, check=False)  # noqa: S603, S607
    disk.rmdir()


async def _admin(url: str, *statements: str) -> None:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            for statement in statements:
                await connection.execute(text(statement))
    finally:
        await engine.dispose()


@pytest.fixture
async def full_disk_database(database_url: str) -> AsyncIterator[tuple[str, Path]]:
    """A database of its own in a tablespace on a 32 MB disk: its URL and the disk."""
    if is_sqlite(database_url):
        pytest.skip("PostgreSQL's full disk; SQLite's is test_operator_lost_file_from_outside")
    disk = _mount_small_disk()
    if disk is None:
        pytest.skip("this machine does not let the test mount a small disk")
    name = f"chatcrm_full_{os.getpid()}"
    try:
        try:
            await _admin(
                database_url,
                f"CREATE TABLESPACE {name} LOCATION '{disk}'",
                f"CREATE DATABASE {name} TABLESPACE {name}",
            )
        except DBAPIError as refused:  # a server elsewhere cannot reach this machine's disk
            pytest.skip(f"the PostgreSQL server cannot use a disk here: {refused.orig}")
        yield make_url(database_url).set(database=name).render_as_string(False), disk
    finally:
        with contextlib.suppress(DBAPIError):
            await _admin(
                database_url,
                f"DROP DATABASE IF EXISTS {name} WITH (FORCE)",
                f"DROP TABLESPACE IF EXISTS {name}",
            )
        _unmount(disk)


async def test_on_a_full_postgresql_disk_webhooks_are_refused_and_healthz_says_so(
    full_disk_database: tuple[str, Path], tmp_path: Path
) -> None:
    url, disk = full_disk_database
    api = FakeLineApi()
    async with api.running():
        serve = await start_serve(
            tmp_path,
            CHATCRM_DATABASE_URL=url,
            LINE_CHANNEL_SECRET=CHANNEL_SECRET,
            LINE_CHANNEL_ACCESS_TOKEN=api.access_token,
            LINE_API_BASE=api.base_url,
            LINE_DATA_API_BASE=api.base_url,
        )
        try:
            assert await _healthz(serve.port) == (200, {"status": "ok"})
            _fill(disk)
            refused = None
            for i in range(MOST_EVENTS):
                user = f"U{i:032x}"
                event = text_event(user, "hello", api.issue_reply_token(user), datetime.now(UTC))
                if await post_line(serve.port, [event], CHANNEL_SECRET) >= 500:
                    refused = (user, event)
                    break
            assert refused is not None, f"{MOST_EVENTS} events fitted in the full disk's pages"
            health = await _healthz(serve.port)
            (disk / "filler").unlink()
            user, event = refused
            again = {**event, "deliveryContext": {"isRedelivery": True}}
            again["replyToken"] = api.issue_reply_token(user)
            assert await post_line(serve.port, [again], CHANNEL_SECRET) == 200
            await until(lambda: api.messages_to(user), "the answer once there is room")
        finally:
            await stop_serve(serve)
    assert health == (503, UNAVAILABLE)
    assert len(api.messages_to(user)) == 1
    assert "disk is full" in serve.text()  # the log says why, once per /healthz asked
