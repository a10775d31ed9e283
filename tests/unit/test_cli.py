"""The command line: exit codes, clear configuration errors, db upgrade, demo build and reuse."""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path

import pytest

from bot.cli import main
from bot.serve_checks import check_public_url
from storage.db import url_problem

CHANNEL_VARS = (
    "TELEGRAM_BOT_TOKEN",
    "TELEGRAM_WEBHOOK_SECRET",
    "LINE_CHANNEL_SECRET",
    "LINE_CHANNEL_ACCESS_TOKEN",
    "CHATCRM_TIMEZONE",
    "CHATCRM_LOCALE",
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Run every command in an empty folder (no .env) on a database of its own."""
    monkeypatch.chdir(tmp_path)
    for name in CHANNEL_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CHATCRM_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'shop.db'}")
    return tmp_path


def _tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as connection:
        rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {name for (name,) in rows}


def _count(path: Path, table: str) -> int:
    with sqlite3.connect(path) as connection:
        return int(connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # noqa: S608


def test_db_upgrade_creates_the_tables(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "upgrade"]) == 0
    assert {"members", "sales", "points_ledger", "alembic_version"} <= _tables(tmp_path / "shop.db")
    assert "upgraded from revision none" in capsys.readouterr().out


def test_db_upgrade_twice_says_it_is_already_current(capsys: pytest.CaptureFixture[str]) -> None:
    main(["db", "upgrade"])
    assert main(["db", "upgrade"]) == 0
    assert "already at the latest schema" in capsys.readouterr().out


@pytest.mark.e2e
def test_demo_builds_a_shop_without_chatting(tmp_path: Path) -> None:
    database = tmp_path / "demo.db"
    argv = ["demo", "--members", "100", "--months", "1", "--no-chat", "--database", str(database)]
    assert main(argv) == 0
    assert _count(database, "members") == 100
    assert _count(database, "branches") == 5
    assert _count(database, "sales") > 0


@pytest.mark.e2e
def test_a_second_demo_with_the_same_parameters_reuses_the_shop(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "demo.db"
    argv = ["demo", "--members", "100", "--months", "1", "--no-chat", "--database", str(database)]
    main(argv)
    with sqlite3.connect(database) as connection:  # a mark the rebuild would wipe out
        connection.execute("UPDATE members SET name = 'kept' WHERE id = 1")
    capsys.readouterr()
    assert main(argv) == 0
    assert "reused" in capsys.readouterr().out
    assert _count(database, "members") == 100
    with sqlite3.connect(database) as connection:
        assert connection.execute("SELECT name FROM members WHERE id = 1").fetchone() == ("kept",)


@pytest.mark.e2e
def test_demo_reset_rebuilds_the_shop(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    database = tmp_path / "demo.db"
    argv = ["demo", "--members", "100", "--months", "1", "--no-chat", "--database", str(database)]
    main(argv)
    with sqlite3.connect(database) as connection:  # what was done in the demo so far
        connection.execute("UPDATE members SET name = 'changed' WHERE id = 1")
    capsys.readouterr()
    assert main([*argv, "--reset"]) == 0
    assert "reused" not in capsys.readouterr().out
    with sqlite3.connect(database) as connection:
        assert connection.execute("SELECT name FROM members WHERE id = 1").fetchone() != (
            "changed",
        )
    assert _count(database, "members") == 100


@pytest.mark.e2e
def test_a_demo_with_other_parameters_is_rebuilt(tmp_path: Path) -> None:
    database = tmp_path / "demo.db"
    base = ["demo", "--months", "1", "--no-chat", "--database", str(database)]
    main([*base, "--members", "100"])
    assert main([*base, "--members", "120"]) == 0
    assert _count(database, "members") == 120


def test_demo_refuses_to_overwrite_a_database_that_is_not_a_demo(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["db", "upgrade"])
    argv = ["demo", "--members", "100", "--no-chat", "--database", str(tmp_path / "shop.db")]
    assert main(argv) == 2
    assert "not a chatcrm demo database" in capsys.readouterr().err
    assert _count(tmp_path / "shop.db", "members") == 0


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["nonsense"],
        ["demo", "--members", "0"],
        ["demo", "--months", "x"],
        ["db"],
        ["chat", "--as", "king"],
    ],
)
def test_bad_usage_exits_with_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert "usage: chatcrm" in capsys.readouterr().err


def test_an_unknown_timezone_is_one_clear_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CHATCRM_TIMEZONE", "Mars/Olympus_Mons")
    assert main(["db", "upgrade"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "CHATCRM_TIMEZONE" in err
    assert "Traceback" not in err


def test_a_bad_port_is_one_clear_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CHATCRM_PORT", "eighty")
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "CHATCRM_PORT" in err


def test_serve_refuses_a_telegram_webhook_without_a_secret(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:abc")
    assert main(["serve"]) == 2
    assert "TELEGRAM_WEBHOOK_SECRET" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "variable"),
    [
        (["telegram", "setup"], "TELEGRAM_BOT_TOKEN"),
        (["line", "setup"], "LINE_CHANNEL_SECRET"),
        (["polling"], "TELEGRAM_BOT_TOKEN"),
    ],
)
def test_channel_commands_say_which_variable_is_missing(
    argv: list[str], variable: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    assert variable in capsys.readouterr().err


def test_chat_as_a_customer_needs_no_staff_account(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("/quit\n"))
    monkeypatch.setenv("CHATCRM_LOCALE", "en")
    assert main(["chat", "--user", "boss"]) == 0
    assert "See you soon!" in capsys.readouterr().out


@pytest.mark.parametrize(
    "url", ["http://shop.example", "http://203.0.113.5:8080", "ftp://shop.example", "shop.example"]
)
def test_serve_refuses_a_public_url_that_is_not_https(
    url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CHATCRM_PUBLIC_URL", url)
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "CHATCRM_PUBLIC_URL must be an https:// address" in err
    assert "LINE fetches images and files only over https" in err
    assert "Telegram refuses a webhook that is not https" in err


@pytest.mark.parametrize("url", ["http://shop.example", "http://203.0.113.5:8080"])
def test_telegram_setup_refuses_a_public_url_that_is_not_https(
    url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:abc")
    monkeypatch.setenv("CHATCRM_PUBLIC_URL", url)
    assert main(["telegram", "setup"]) == 2
    err = capsys.readouterr().err
    assert "CHATCRM_PUBLIC_URL must be an https:// address" in err
    assert "Telegram refuses a webhook that is not https" in err


@pytest.mark.parametrize(
    "url",
    [
        "https://shop.example",
        "http://localhost:8080",
        "http://127.0.0.1:8080",
        "http://127.8.0.1",
        "http://[::1]:8080",
    ],
)
def test_an_https_or_loopback_public_url_is_accepted(url: str) -> None:
    check_public_url(url)  # raises StartupError when refused


@pytest.mark.parametrize(
    "url",
    [
        "sqlite+aiosqlite:///./shop.db",
        "sqlite+aiosqlite://",
        "postgresql+asyncpg://shop:pw@db.internal:5432/shop?options=-csearch_path%3Dshop_a",
    ],
)
def test_the_database_urls_chatcrm_runs_on_are_accepted(url: str) -> None:
    assert url_problem(url) is None


def test_a_refused_database_url_never_shows_its_password() -> None:
    problem = url_problem("postgresql://shop:hunter2@db.internal/shop")
    assert problem is not None
    assert "postgresql+asyncpg://" in problem
    assert "hunter2" not in problem


@pytest.mark.parametrize("timeout", ["abc", "nan", "-1", "1e400", "3000000"])
def test_a_sqlite_timeout_sqlite_cannot_take_is_a_url_problem(timeout: str) -> None:
    """Before: ``?timeout=abc`` passed the start-up check and ``float('abc')`` raised at engine
    creation, a traceback instead of the one-line refusal."""
    problem = url_problem(f"sqlite+aiosqlite:///./shop.db?timeout={timeout}")
    assert problem is not None
    assert "timeout must be 0 to 2147483 seconds" in problem
