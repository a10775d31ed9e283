"""What an operator's SIGKILL (an out-of-memory kill, a pulled plug of a container) leaves
behind, through the real command line (``python -m bot``): a ``serve`` killed and started again
comes up on the same SQLite file; a ``demo`` killed while it builds is built whole by the next
``demo``; and ``/healthz`` answers while another process holds the SQLite file's write lock."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.e2e.operator_support import (
    TIMEOUT,
    chatcrm,
    environment,
    free_port,
    get,
    scalar,
    sqlite_url,
    start,
    stop,
    wait_serving,
)

pytestmark = pytest.mark.e2e

#: what a demo shop holds, compared between a killed-then-rerun build and a clean one
SHOP = (
    "SELECT (SELECT count(*) FROM members) || '/' || (SELECT count(*) FROM sales) || '/' ||"
    " (SELECT sum(amount) FROM sales) || '/' || (SELECT count(*) FROM points_ledger) || '/' ||"
    " (SELECT sum(delta) FROM points_ledger) || '/' || (SELECT count(*) FROM coupons)"
)
DEMO = ("demo", "--members", "300", "--months", "3", "--no-chat", "--database", "shop.db")


def _members_so_far(database: Path) -> int:
    if not database.exists():  # never create the file the demo is about to build
        return 0
    try:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30) as connection:
            return int(connection.execute("SELECT count(*) FROM members").fetchone()[0])
    except sqlite3.OperationalError:  # no table yet
        return 0


def test_a_demo_killed_while_it_builds_is_built_whole_next_time(tmp_path: Path) -> None:
    clean, killed = tmp_path / "clean", tmp_path / "killed"
    clean.mkdir()
    killed.mkdir()
    assert chatcrm(clean, *DEMO).returncode == 0
    building = start(killed, *DEMO)
    deadline = time.monotonic() + TIMEOUT
    try:  # the kill lands once members are in (or after the end, on a fast machine)
        while building.poll() is None and time.monotonic() < deadline:
            if _members_so_far(killed / "shop.db"):
                break
            time.sleep(0.05)
    finally:
        stop(building)

    again = chatcrm(killed, *DEMO)

    assert again.returncode == 0, again.stderr[-2000:]
    assert scalar(killed / "shop.db", SHOP) == scalar(clean / "shop.db", SHOP)


def test_serve_killed_comes_up_again_on_the_same_file(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "shop.db")
    for _ in range(2):
        port = free_port()
        serve = start(tmp_path, "serve", CHATCRM_DATABASE_URL=url, CHATCRM_PORT=str(port))
        try:
            wait_serving(serve, port)
            assert get(port, "/healthz") == (200, '{"status": "ok"}')
            invite = chatcrm(
                tmp_path, "staff", "invite", "--role", "owner", CHATCRM_DATABASE_URL=url
            )
            assert invite.returncode == 0, invite.stderr[-2000:]
        finally:
            stop(serve)  # SIGKILL
    assert scalar(tmp_path / "shop.db", "SELECT count(*) FROM staff_invites") == 2
    assert scalar(tmp_path / "shop.db", "PRAGMA integrity_check") == "ok"


LOCKER = """
import sqlite3, sys, time
connection = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=60)
connection.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.readline()  # held until the test says so
connection.execute("ROLLBACK")
"""
TOKEN = "status-token-for-the-test"


def _healthz(port: int, token: str | None = None) -> tuple[int, dict[str, object]] | None:
    """``/healthz``'s status and JSON body (with the status token when given), or None when
    nothing answers within the generous :data:`TIMEOUT` (a hang, never a measured duration)."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}/healthz")
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as answer:  # noqa: S310 (local)
            return int(answer.status), json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return int(error.code), json.loads(error.read())
    except OSError:
        return None


def test_healthz_answers_while_another_process_holds_the_write_lock(tmp_path: Path) -> None:
    # The busy timeout is an hour (the URL's timeout): a check that waited for the write lock
    # would get no answer before the lock is given back, and the lock is given back only once
    # both answers have arrived. A read does not wait for the writer in WAL mode.
    port = free_port()
    url = f"{sqlite_url(tmp_path / 'shop.db')}?timeout=3600"
    serve = start(
        tmp_path,
        "serve",
        CHATCRM_DATABASE_URL=url,
        CHATCRM_PORT=str(port),
        CHATCRM_STATUS_TOKEN=TOKEN,
    )
    locker = None
    try:
        wait_serving(serve, port)
        locker = subprocess.Popen(  # noqa: S603 (this interpreter, a fixed script)
            [sys.executable, "-c", LOCKER, str(tmp_path / "shop.db")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=environment(),
        )
        assert locker.stdout is not None
        assert locker.stdout.readline().strip() == "locked"
        public, detailed = _healthz(port), _healthz(port, TOKEN)
        assert locker.poll() is None  # the lock was held all along
        locker.communicate("\n", timeout=TIMEOUT)
        after = _healthz(port)
    finally:
        if locker is not None and locker.poll() is None:
            locker.kill()
        stop(serve)
    assert public == (200, {"status": "ok"})
    assert detailed is not None
    assert detailed[0] == 200
    assert detailed[1]["status"] == "ok"
    assert "outbox" in detailed[1]
    assert "jobs" in detailed[1]
    assert after == (200, {"status": "ok"})
