"""One server per SQLite file (``storage.sole_server``): a second is refused at once with one
line naming the file, the lock goes with its holder, and PostgreSQL or an in-memory database
take no lock."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from storage.sole_server import AnotherServer, database_file, sole_server


def _url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def _refused(url: str) -> AnotherServer:
    """What taking ``url``'s lock now raises."""
    with pytest.raises(AnotherServer) as refused, sole_server(url):
        pass
    return refused.value


def test_a_second_server_on_the_same_file_is_refused_naming_it(tmp_path: Path) -> None:
    with sole_server(_url(tmp_path / "shop.db")):
        refused = str(_refused(_url(tmp_path / "shop.db")))
    assert f"SQLite file {tmp_path / 'shop.db'}" in refused
    assert "one process" in refused


def test_the_lock_goes_with_its_holder(tmp_path: Path) -> None:
    url = _url(tmp_path / "shop.db")
    with sole_server(url):
        pass
    with sole_server(url):  # taken again once given back
        pass


def test_a_relative_name_and_a_link_name_the_same_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "shop.db").touch()
    (tmp_path / "link.db").symlink_to(tmp_path / "shop.db")
    monkeypatch.chdir(tmp_path)
    with sole_server("sqlite+aiosqlite:///shop.db"):
        _refused(_url(tmp_path / "link.db"))


HOLDER = """
import sys, time
from storage.sole_server import sole_server
with sole_server(sys.argv[1]):
    print("held", flush=True)
    time.sleep(600)
"""


@pytest.mark.e2e  # a subprocess
def test_a_killed_holder_leaves_no_lock_behind(tmp_path: Path) -> None:
    url = _url(tmp_path / "shop.db")
    holder = subprocess.Popen(  # noqa: S603 (this interpreter, a fixed script)
        [sys.executable, "-c", HOLDER, url], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(AnotherServer, match=rf"\(pid {holder.pid}\)"), sole_server(url):
            pass
    finally:
        holder.kill()
        holder.wait()
    with sole_server(url):
        pass


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+asyncpg://postgres@127.0.0.1/shop",
        "sqlite+aiosqlite://",
        "sqlite+aiosqlite:///:memory:",
        "sqlite+aiosqlite:///file:shop?mode=memory&uri=true",
    ],
)
def test_databases_of_no_file_take_no_lock(url: str) -> None:
    assert database_file(url) is None
    with sole_server(url), sole_server(url):
        pass
