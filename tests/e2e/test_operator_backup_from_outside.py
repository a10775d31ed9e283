"""An operator backs up a live SQLite shop with ``sqlite3 shop.db ".backup copy.db"`` while
``serve`` runs, and later restores that copy and restarts: a LINE message still queued in the
copy but pushed after it was taken goes out again with the same retry key, so LINE answers 409
and the member sees it once. And the README, which says nothing of backups, should say how."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import pytest

from bot.core.messages import Channel
from simulator.fakes.line_api import CHANNEL_SECRET, FakeLineApi
from tests.e2e.operator_month_support import (
    points_event,
    post_line,
    run_cli,
    seed_member,
    start_serve,
    stop_serve,
    until,
)
from tests.e2e.operator_support import sqlite_url

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
LINE_USER = "U1b2c3d4e5f60718293a4b5c6d7e8f901"


async def _queued(tmp_path: Path, database: Path) -> int:
    code, out, err = await run_cli(
        tmp_path, "status", "--json", CHATCRM_DATABASE_URL=sqlite_url(database)
    )
    assert code == 0, err[-2000:]
    line = json.loads(out)["outbox"].get("line", {})
    return int(line.get("due", 0)) + int(line.get("deferred", 0))


async def _backup(database: Path, copy: Path) -> None:
    process = await asyncio.create_subprocess_exec("sqlite3", str(database), f".backup {copy}")
    assert await process.wait() == 0


def _restore(copy: Path, database: Path) -> None:
    """Yesterday's copy put back in place of the stopped shop's file."""
    for suffix in ("-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(copy, database)


async def test_a_restored_backup_does_not_show_a_line_message_twice(tmp_path: Path) -> None:
    database, copy = tmp_path / "shop.db", tmp_path / "yesterday.db"
    await seed_member(database, Channel.LINE, LINE_USER, points=120)
    api = FakeLineApi()
    api.fail_server_error("reply", times=10)  # the answer is queued, to be pushed
    api.fail_server_error("push", times=2)  # and waits out two back-offs in the queue
    async with api.running():
        variables = {
            "CHATCRM_DATABASE_URL": sqlite_url(database),
            "LINE_CHANNEL_SECRET": CHANNEL_SECRET,
            "LINE_CHANNEL_ACCESS_TOKEN": api.access_token,
            "LINE_API_BASE": api.base_url,
            "LINE_DATA_API_BASE": api.base_url,
        }
        serve = await start_serve(tmp_path, "serve-before", **variables)
        try:
            event = points_event(LINE_USER, api.issue_reply_token(LINE_USER))
            assert await post_line(serve.port, [event], CHANNEL_SECRET) == 200
            await until(lambda: len(api.calls_to("push")) >= 2, "two pushes refused")
            await _backup(database, copy)
            assert await _queued(tmp_path, copy) == 1  # the copy holds it still queued
            await until(lambda: api.messages_to(LINE_USER), "the answer pushed")
        finally:
            await stop_serve(serve)
        _restore(copy, database)
        serve = await start_serve(tmp_path, "serve-restored", **variables)
        try:
            await until(lambda: any(c.status == 409 for c in api.calls), "the push repeated")
        finally:
            await stop_serve(serve)
    assert len(api.messages_to(LINE_USER)) == 1


def test_the_readme_says_how_to_back_up_a_live_shop() -> None:
    readme = (ROOT / "README.md").read_text()
    assert ".backup" in readme or "VACUUM INTO" in readme
    assert "restore" in readme.lower()


def test_the_readme_does_not_promise_a_move_from_sqlite_to_postgresql() -> None:
    """No command moves a shop between stores, and the README promises none."""
    readme = (ROOT / "README.md").read_text().lower()
    for promise in ("migrate from sqlite", "move to postgresql", "sqlite to postgresql"):
        assert promise not in readme
