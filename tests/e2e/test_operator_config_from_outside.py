"""An operator's configuration mistakes, through the real command line (``python -m bot``) in a
directory of its own: each should end in one line on stderr naming what to fix, exit 2 (the
CLI's code for bad configuration), and never show a Python traceback. And the ``.env`` file as
editors and shells write it (a BOM, CRLF line ends, quotes, spaces, ``export``) is read as
meant."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.e2e.operator_support import (
    TIMEOUT,
    chatcrm,
    free_port,
    get,
    sqlite_url,
    start,
    stop,
)

pytestmark = pytest.mark.e2e


def _one_clear_line(done: subprocess.CompletedProcess[str], *names: str) -> None:
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
    assert done.returncode == 2, (done.returncode, done.stderr[-2000:])
    assert any(name in done.stderr for name in names), done.stderr


def _refused_before_serving(process: subprocess.Popen[str], port: int) -> int | None:
    """The exit code of a ``serve`` that stopped on its own; None when it served instead."""
    deadline = time.monotonic() + TIMEOUT
    try:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                return process.returncode
            if get(port, "/healthz") is not None:
                return None
            time.sleep(0.2)
        return None
    finally:
        stop(process)


def test_a_port_already_in_use_is_one_clear_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = chatcrm(
            tmp_path,
            "serve",
            CHATCRM_DATABASE_URL=sqlite_url(tmp_path / "shop.db"),
            CHATCRM_PORT=str(port),
        )
    _one_clear_line(done, "CHATCRM_PORT", str(port))


@pytest.mark.parametrize(
    "url",
    ["shop.db", "sqlite:///./shop.db", "mysql+nosuchdriver://shop@127.0.0.1/shop"],
    ids=["not-a-url", "sync-driver", "unknown-dialect"],
)
def test_a_database_url_sqlalchemy_cannot_use_is_one_clear_line(tmp_path: Path, url: str) -> None:
    done = chatcrm(tmp_path, "db", "upgrade", CHATCRM_DATABASE_URL=url)
    _one_clear_line(done, "CHATCRM_DATABASE_URL")


def test_a_database_host_that_does_not_resolve_is_one_clear_line(tmp_path: Path) -> None:
    url = "postgresql+asyncpg://postgres@no-such-host.invalid:5432/shop"
    done = chatcrm(tmp_path, "db", "upgrade", CHATCRM_DATABASE_URL=url)
    _one_clear_line(done, "no-such-host.invalid", "CHATCRM_DATABASE_URL")


def test_a_postgresql_server_that_is_not_there_is_one_clear_line(tmp_path: Path) -> None:
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/shop"
    done = chatcrm(tmp_path, "staff", "invite", "--role", "owner", CHATCRM_DATABASE_URL=url)
    _one_clear_line(done, "database does not answer")
    assert "127.0.0.1" in done.stderr


@pytest.mark.parametrize(
    "name", ["missing-dir/shop.db", "."], ids=["directory-missing", "a-directory"]
)
def test_a_sqlite_path_that_cannot_be_opened_is_one_clear_line(tmp_path: Path, name: str) -> None:
    done = chatcrm(tmp_path, "db", "upgrade", CHATCRM_DATABASE_URL=sqlite_url(tmp_path / name))
    _one_clear_line(done, "database does not answer")
    assert not (tmp_path / "missing-dir").exists()


def test_a_file_that_is_not_a_database_is_left_as_it_was(tmp_path: Path) -> None:
    notes = tmp_path / "notes.db"
    notes.write_text("the shop's opening hours\n")
    done = chatcrm(tmp_path, "serve", CHATCRM_DATABASE_URL=sqlite_url(notes))
    _one_clear_line(done, "file is not a database")
    assert notes.read_text() == "the shop's opening hours\n"


def test_a_telegram_token_of_the_wrong_shape_is_one_clear_line(tmp_path: Path) -> None:
    done = chatcrm(
        tmp_path,
        "serve",
        CHATCRM_DATABASE_URL=sqlite_url(tmp_path / "shop.db"),
        CHATCRM_PORT=str(free_port()),
        TELEGRAM_BOT_TOKEN="my-bot-token",
        TELEGRAM_WEBHOOK_SECRET="s3cret",
    )
    _one_clear_line(done, "TELEGRAM_BOT_TOKEN")


@pytest.mark.parametrize("given", ["LINE_CHANNEL_ACCESS_TOKEN", "LINE_CHANNEL_SECRET"])
def test_a_half_configured_line_channel_is_refused(tmp_path: Path, given: str) -> None:
    port = free_port()
    serve = start(
        tmp_path,
        "serve",
        **{given: "set-but-alone"},
        CHATCRM_DATABASE_URL=sqlite_url(tmp_path / "shop.db"),
        CHATCRM_PORT=str(port),
    )
    code = _refused_before_serving(serve, port)
    log = (tmp_path / "serve.log").read_text()
    assert code == 2, log[-2000:]
    assert "Traceback" not in log
    missing = {"LINE_CHANNEL_ACCESS_TOKEN", "LINE_CHANNEL_SECRET"} - {given}
    assert missing.pop() in log


#: ``.env`` files as an editor or a shell habit writes them
DOT_ENVS = {
    "bom": "\ufeffCHATCRM_DATABASE_URL=sqlite+aiosqlite:///./named.db\n",
    "crlf": "CHATCRM_DATABASE_URL=sqlite+aiosqlite:///./named.db\r\nCHATCRM_LOCALE=en\r\n",
    "double-quotes": 'CHATCRM_DATABASE_URL="sqlite+aiosqlite:///./named.db"\n',
    "single-quotes": "CHATCRM_DATABASE_URL='sqlite+aiosqlite:///./named.db'\n",
    "spaces": "CHATCRM_DATABASE_URL = sqlite+aiosqlite:///./named.db  \nCHATCRM_LOCALE = en \n",
    "export": "# the shop\nexport CHATCRM_DATABASE_URL=sqlite+aiosqlite:///./named.db\n",
}


@pytest.mark.parametrize("style", sorted(DOT_ENVS))
def test_a_dot_env_file_is_read_as_meant(tmp_path: Path, style: str) -> None:
    (tmp_path / ".env").write_bytes(DOT_ENVS[style].encode())
    done = chatcrm(tmp_path, "db", "upgrade")
    assert done.returncode == 0, done.stderr[-2000:]
    assert (tmp_path / "named.db").exists()
    assert not (tmp_path / "chatcrm.db").exists()
    assert "named.db" in done.stdout


def test_the_environment_wins_over_the_dot_env_file(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("CHATCRM_DATABASE_URL=sqlite+aiosqlite:///./from-file.db\n")
    done = chatcrm(
        tmp_path, "db", "upgrade", CHATCRM_DATABASE_URL=sqlite_url(tmp_path / "from-env.db")
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert (tmp_path / "from-env.db").exists()
    assert not (tmp_path / "from-file.db").exists()


@pytest.mark.parametrize(
    ("line", "name"),
    [
        ("CHATCRM_SQLITE_SYNCHRONOUS=bogus", "CHATCRM_SQLITE_SYNCHRONOUS"),
        ("CHATCRM_TIMEZONE=Bangkok", "CHATCRM_TIMEZONE"),
        ("CHATCRM_LOCALE=fr", "CHATCRM_LOCALE"),
        ("CHATCRM_PORT=80 80", "CHATCRM_PORT"),
        ("TELEGRAM_RATE=0", "TELEGRAM_RATE"),
    ],
)
def test_a_bad_value_in_dot_env_is_one_clear_line_and_makes_no_database(
    tmp_path: Path, line: str, name: str
) -> None:
    (tmp_path / ".env").write_text(f"CHATCRM_DATABASE_URL=sqlite+aiosqlite:///./shop.db\n{line}\n")
    done = chatcrm(tmp_path, "serve")
    _one_clear_line(done, name)
    assert not (tmp_path / "shop.db").exists()


@pytest.mark.parametrize("port", ["70000", "-1"])
def test_a_port_out_of_range_is_one_clear_line_and_makes_no_database(
    tmp_path: Path, port: str
) -> None:
    done = chatcrm(
        tmp_path, "serve", CHATCRM_DATABASE_URL=sqlite_url(tmp_path / "shop.db"), CHATCRM_PORT=port
    )
    _one_clear_line(done, "CHATCRM_PORT")
    assert not (tmp_path / "shop.db").exists()


@pytest.mark.parametrize("host", ["999.1.1.1", "no-such-host.invalid"])
def test_a_host_serve_cannot_listen_on_is_one_clear_line(tmp_path: Path, host: str) -> None:
    done = chatcrm(
        tmp_path,
        "serve",
        CHATCRM_DATABASE_URL=sqlite_url(tmp_path / "shop.db"),
        CHATCRM_HOST=host,
        CHATCRM_PORT=str(free_port()),
    )
    _one_clear_line(done, "CHATCRM_HOST", host)


def test_a_serve_that_is_refused_never_says_it_is_serving(tmp_path: Path) -> None:
    done = chatcrm(
        tmp_path,
        "serve",
        CHATCRM_DATABASE_URL=sqlite_url(tmp_path / "shop.db"),
        CHATCRM_PUBLIC_URL="shop.example.com",
    )
    _one_clear_line(done, "CHATCRM_PUBLIC_URL")
    assert "serving on" not in done.stdout + done.stderr


def test_chat_as_an_owner_that_is_not_one_is_told_in_good_english(tmp_path: Path) -> None:
    done = chatcrm(
        tmp_path, "chat", "--as", "owner", CHATCRM_DATABASE_URL=sqlite_url(tmp_path / "shop.db")
    )
    _one_clear_line(done, "staff invite --role owner")
    assert "a owner" not in done.stderr
