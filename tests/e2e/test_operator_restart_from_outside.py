"""The operator's upgrades, restarts and accidents, through the real command line
(``python -m bot``) on a SQLite file of its own: a shop upgraded from an old schema keeps its
numbers, a database newer than the program is refused in one line, SIGTERM ends ``serve``
cleanly, an import killed with SIGKILL can simply be run again, and a second ``serve`` on the
same SQLite file (the README: "SQLite is for one process, which always leads") is refused."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import text

from storage.db import create_engine, is_sqlite
from storage.migrate import downgrade
from tests.conftest import PG_SCHEMA
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


def _at_revision(database: Path, revision: str) -> None:
    """The shop's schema taken back to ``revision`` by the real migrations."""

    async def back() -> None:
        engine = create_engine(sqlite_url(database))
        try:
            await downgrade(engine, revision)
        finally:
            await engine.dispose()

    asyncio.run(back())


@pytest.fixture(scope="module")
def demo_shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small demo shop at the current schema (built once: it takes a while)."""
    where = tmp_path_factory.mktemp("demo")
    done = chatcrm(
        where, "demo", "--members", "80", "--months", "2", "--no-chat", "--database", "shop.db"
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return where / "shop.db"


@pytest.mark.parametrize("revision", ["0002", "0010", "0019"])
def test_a_shop_upgraded_from_an_old_schema_keeps_its_members_and_numbers(
    tmp_path: Path, demo_shop: Path, revision: str
) -> None:
    url = {"CHATCRM_DATABASE_URL": sqlite_url(tmp_path / "shop.db")}
    (tmp_path / "shop.db").write_bytes(demo_shop.read_bytes())
    before = chatcrm(tmp_path, "export", "members", "before.csv", **url)
    assert before.returncode == 0, before.stderr[-2000:]
    sales = scalar(tmp_path / "shop.db", "SELECT count(*) || ' sales, ' || sum(amount) FROM sales")
    _at_revision(tmp_path / "shop.db", revision)

    upgraded = chatcrm(tmp_path, "db", "upgrade", **url)

    assert upgraded.returncode == 0, upgraded.stderr[-2000:]
    assert f"upgraded from revision {revision} to" in upgraded.stdout
    after = chatcrm(tmp_path, "export", "members", "after.csv", **url)
    assert after.returncode == 0, after.stderr[-2000:]
    assert (tmp_path / "after.csv").read_bytes() == (tmp_path / "before.csv").read_bytes()
    assert (
        scalar(tmp_path / "shop.db", "SELECT count(*) || ' sales, ' || sum(amount) FROM sales")
        == sales
    )


def _newer_than_the_program(tmp_path: Path) -> dict[str, str]:
    url = {"CHATCRM_DATABASE_URL": sqlite_url(tmp_path / "shop.db")}
    assert chatcrm(tmp_path, "db", "upgrade", **url).returncode == 0
    with sqlite3.connect(tmp_path / "shop.db") as connection:
        connection.execute("UPDATE alembic_version SET version_num = '9999'")
    return url


@pytest.mark.parametrize(
    "argv",
    [("db", "upgrade"), ("serve",), ("staff", "invite", "--role", "owner"), ("status",)],
    ids=["db-upgrade", "serve", "staff-invite", "status"],
)
def test_a_database_newer_than_the_program_is_refused_in_one_line(
    tmp_path: Path, argv: tuple[str, ...]
) -> None:
    url = _newer_than_the_program(tmp_path)
    done = chatcrm(tmp_path, *argv, **url, CHATCRM_PORT=str(free_port()))
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
    assert done.returncode == 2
    # the refusal alone: alembic's start-up chatter (plugins set up, the context's DDL mode)
    # had come before it on every start
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    last = done.stderr.strip()
    assert "9999" in last
    assert "newer chatcrm" in last
    assert scalar(tmp_path / "shop.db", "SELECT version_num FROM alembic_version") == "9999"


def test_sigterm_ends_serve_cleanly(tmp_path: Path) -> None:
    port = free_port()
    serve = start(
        tmp_path,
        "serve",
        CHATCRM_DATABASE_URL=sqlite_url(tmp_path / "shop.db"),
        CHATCRM_PORT=str(port),
    )
    try:
        wait_serving(serve, port)
        assert get(port, "/healthz") == (200, '{"status": "ok"}')
        serve.send_signal(signal.SIGTERM)
        code = serve.wait(timeout=TIMEOUT)
    finally:
        stop(serve)
    log = (tmp_path / "serve.log").read_text()
    assert code == 0, log[-2000:]
    assert "Traceback" not in log
    assert get(port, "/healthz") is None
    with sqlite3.connect(tmp_path / "shop.db") as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_a_second_serve_on_the_same_sqlite_file_is_refused(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "shop.db")
    first_port, second_port = free_port(), free_port()
    first = start(tmp_path, "serve", CHATCRM_DATABASE_URL=url, CHATCRM_PORT=str(first_port))
    (tmp_path / "second").mkdir()
    second = None
    try:
        wait_serving(first, first_port)
        second = start(
            tmp_path / "second", "serve", CHATCRM_DATABASE_URL=url, CHATCRM_PORT=str(second_port)
        )
        deadline = time.monotonic() + TIMEOUT
        while second.poll() is None and time.monotonic() < deadline:
            if get(second_port, "/healthz") is not None:
                break
            time.sleep(0.2)
        code = second.poll()
    finally:
        for process in (first, second):
            if process is not None:
                stop(process)
    log = (tmp_path / "second" / "serve.log").read_text()
    assert code == 2, log[-2000:]
    assert "Traceback" not in log
    assert "SQLite" in log
    assert len(log.strip().splitlines()) == 1, log  # the refusal alone


ROWS = 40_000


def _members_file(path: Path) -> int:
    """``ROWS`` members, each with opening points; returns the points in the file."""
    lines = ["name,phone,points"]
    lines += [f"Member {row},08{row:08d},{row % 50}" for row in range(ROWS)]
    path.write_text("\n".join(lines) + "\n")
    return sum(row % 50 for row in range(ROWS))


def test_an_import_killed_midway_is_simply_run_again(tmp_path: Path) -> None:
    url = {"CHATCRM_DATABASE_URL": sqlite_url(tmp_path / "shop.db")}
    points = _members_file(tmp_path / "members.csv")
    assert chatcrm(tmp_path, "db", "upgrade", **url).returncode == 0
    killed = start(tmp_path, "import", "members", "members.csv", **url)
    deadline = time.monotonic() + TIMEOUT
    try:  # the kill lands once some batches are in (or after the end, on a fast machine)
        while killed.poll() is None and time.monotonic() < deadline:
            with sqlite3.connect(tmp_path / "shop.db", timeout=30) as connection:
                if connection.execute("SELECT count(*) FROM members").fetchone()[0]:
                    break
            time.sleep(0.05)
    finally:
        killed.send_signal(signal.SIGKILL)
        killed.wait(timeout=TIMEOUT)
    half = tmp_path / "shop.db"
    present = scalar(half, "SELECT count(*) FROM members")
    assert isinstance(present, int)
    assert present % 1_000 == 0  # whole batches only
    theirs = "SELECT sum(CAST(substr(name, 8) AS INTEGER) % 50) FROM members"
    assert scalar(half, "SELECT coalesce(sum(delta), 0) FROM points_ledger") == (
        scalar(half, theirs) or 0
    )

    for _ in range(2):  # the re-run completes it; one more run changes nothing
        again = chatcrm(tmp_path, "import", "members", "members.csv", **url)
        assert again.returncode == 0, again.stderr[-2000:]
        assert scalar(half, "SELECT count(*) FROM members") == ROWS
        assert scalar(half, "SELECT count(DISTINCT phone) FROM members") == ROWS
        assert scalar(half, "SELECT sum(delta) FROM points_ledger") == points
        assert scalar(half, "SELECT sum(points_balance) FROM members") == points


async def _fresh_schema(url: str, schema: str, *, drop: bool = False) -> None:
    admin = create_engine(url)
    try:
        async with admin.begin() as connection:
            await connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            if not drop:
                await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    finally:
        await admin.dispose()


@pytest.fixture
def empty_database(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A URL of a database with no tables (PostgreSQL: a schema of its own)."""
    if is_sqlite(database_url):
        yield sqlite_url(tmp_path / "empty.db")
        return
    schema = f"{PG_SCHEMA}_empty"
    asyncio.run(_fresh_schema(database_url, schema))
    yield f"{database_url}?options={quote(f'-csearch_path={schema}')}"
    asyncio.run(_fresh_schema(database_url, schema, drop=True))


@pytest.mark.db
def test_processes_started_together_on_an_empty_database_all_migrate_it(
    empty_database: str, tmp_path: Path
) -> None:
    starting = [
        subprocess.Popen(
            [sys.executable, "-m", "bot", "db", "upgrade"],
            cwd=tmp_path,
            env=environment(CHATCRM_DATABASE_URL=empty_database),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    ends = [process.communicate(timeout=TIMEOUT) for process in starting]
    codes = [process.returncode for process in starting]
    assert codes == [0, 0, 0], [err[-500:] for _, err in ends]
    again = chatcrm(tmp_path, "db", "upgrade", CHATCRM_DATABASE_URL=empty_database)
    assert "already at the latest schema" in again.stdout
