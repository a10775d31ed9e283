"""What a SQLite shop's file can do to a running process that ``SELECT 1`` does not show.

A file deleted (or replaced) under a running ``serve`` stays open: reads and writes go on into
the deleted inode, and everything written is gone at the next start. :class:`ShopFile` keeps
the identity (device and inode) of the file the first connection opened, and each write
transaction's commit compares it with what the path names now (one ``stat`` of a few µs, beside
the commit's own WAL write): a commit into a file the path no longer names is refused, so the
event fails with a 5xx and the platform delivers it again. ``/healthz`` asks the same.

A full disk (or SQLite's ``max_page_count``) fails every write with SQLITE_FULL while reads
still work, so ``SELECT 1`` answers: a write refused so makes :meth:`ShopFile.problem` report
it for :data:`~storage.disk_full.FULL_FOR` seconds (:mod:`storage.disk_full`, which watches
PostgreSQL's full disk the same way).

A command that only reads the shop or works on what it holds (``export``, ``status``, ``jobs``)
first asks :func:`require_shop_file`: opening a path with no file there would make a new, empty
shop.
"""

from __future__ import annotations

import os
import sqlite3
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.errors import CommandError
from storage.disk_full import FullMark


class ShopFileGone(sqlite3.OperationalError):
    """Why a commit was refused: the path no longer names the file this process opened (the
    ``orig`` of the :class:`~sqlalchemy.exc.OperationalError` raised, as a driver's would be)."""


class ShopFile:
    """The database file of one engine: the one it opened, and when a write last failed full."""

    def __init__(self, path: str) -> None:
        self.path = os.path.abspath(path)
        self._identity: tuple[int, int] | None = None
        self._full = FullMark()

    def opened(self) -> None:
        """A connection opened the file: the first one's is the shop's."""
        if self._identity is None:
            found = os.stat(self.path)
            self._identity = (found.st_dev, found.st_ino)

    def gone(self) -> str | None:
        """Why the path no longer names the file opened (deleted, another file), else None."""
        if self._identity is None:
            return None
        try:
            found = os.stat(self.path)
        except OSError:
            return f"the database file {self.path} was deleted while this process had it open"
        if (found.st_dev, found.st_ino) != self._identity:
            return f"the database file {self.path} was replaced by another file since it was opened"
        return None

    def refused_as_full(self) -> None:
        self._full.refused()

    def problem(self) -> str | None:
        """Why the shop cannot keep what it writes now, as a sentence; None if nothing known."""
        if (gone := self.gone()) is not None:
            return gone
        if self._full.recent():
            return f"database or disk is full: a write to {self.path} failed in the last minute"
        return None


class NoShopFile(CommandError):
    """A command that only reads the shop was pointed at a SQLite path with no file."""


def missing_shop_file(url: str) -> str | None:
    """The absolute path of the SQLite file ``url`` names when no file is there (deleted, moved,
    a wrong directory); None when there is one, and for PostgreSQL and memory databases."""
    parsed = make_url(url)
    path = parsed.database
    if parsed.get_backend_name() != "sqlite" or path in (None, "", ":memory:"):
        return None
    if parsed.query.get("uri") or os.path.exists(path):
        return None
    return os.path.abspath(path)


def require_shop_file(url: str) -> None:
    """Raise :class:`NoShopFile` naming the file when ``url`` is a SQLite file that does not
    exist; PostgreSQL and memory databases pass."""
    path = missing_shop_file(url)
    if path is None:
        return
    raise NoShopFile(
        f"no shop at {path}: CHATCRM_DATABASE_URL names a SQLite file that does "
        "not exist (moved or deleted?); nothing was created (`chatcrm db upgrade` makes a new, "
        "empty shop there)"
    )


_FILES: WeakKeyDictionary[Engine, ShopFile] = WeakKeyDictionary()


def shop_file_problem(engine: AsyncEngine) -> str | None:
    """:meth:`ShopFile.problem` of ``engine``'s file; None for PostgreSQL or a memory database."""
    watched = _FILES.get(engine.sync_engine)
    return None if watched is None else watched.problem()


def watch_shop_file(engine: AsyncEngine, path: str, read_only_option: str) -> None:
    """Watch ``engine``'s database file at ``path`` (see the module's text). A transaction whose
    connection carries the execution option ``read_only_option`` commits unchecked."""
    watched = _FILES[engine.sync_engine] = ShopFile(path)

    @event.listens_for(engine.sync_engine, "connect")
    def _opened(_dbapi_connection: Any, _record: Any) -> None:
        watched.opened()

    @event.listens_for(engine.sync_engine, "commit")
    def _committing(connection: Any) -> None:
        if connection.get_execution_options().get(read_only_option):
            return
        if (gone := watched.gone()) is not None:
            refused = ShopFileGone(f"{gone}: nothing more is written into it")
            raise OperationalError("COMMIT", None, refused)

    @event.listens_for(engine.sync_engine, "handle_error")
    def _failed(context: Any) -> None:
        if getattr(context.original_exception, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL:
            watched.refused_as_full()
