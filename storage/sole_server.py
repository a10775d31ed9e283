"""One server per SQLite file: ``serve`` and ``polling`` lead (they run the scheduler and the
outbox dispatcher), and SQLite is for one process, which always leads; PostgreSQL elects one
leader among many (``storage.leader_lock``), SQLite has no such lock.

The lock is an exclusive ``flock`` on a file beside the database (``shop.db.lock`` beside
``shop.db``), taken before the server opens the database and held while it runs. The operating
system releases it when the process ends in any way, so a server killed with SIGKILL never
keeps the next one from starting; the file itself stays and is reused. The other commands
(``chat``, ``import``, ``staff``, ``status``, …) take no lock: they are run beside a server, and
SQLite's own locks order their writes. Only a migration is kept from running beside a server
(:func:`server_beside`): the server's queries are written for the schema it migrated to.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Final

from sqlalchemy.engine import make_url

from bot.core.errors import CommandError

SUFFIX: Final = ".lock"
#: the database files whose server lock this process holds: its own migration is no other
#: server's (a second descriptor's flock would conflict with the first, even in one process)
_HELD: Final[set[Path]] = set()


class AnotherServer(CommandError):
    """A ``serve`` or ``polling`` already runs on this SQLite file."""


def database_file(url: str) -> Path | None:
    """The SQLite database file of ``url``; None for PostgreSQL and in-memory databases."""
    parsed = make_url(url)
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    if database.startswith("file:"):  # a URI file name (its parameters are the URL's query)
        database = database[len("file:") :]
        if not database or database == ":memory:" or parsed.query.get("mode") == "memory":
            return None
    # one file however the database is named (a relative path, a symbolic link)
    return Path(os.path.realpath(database))


def _holder(descriptor: int) -> str:
    """What the lock's holder wrote in the file: its process id, or nothing yet."""
    written = os.pread(descriptor, 32, 0).decode("ascii", "replace").strip()
    return f" (pid {written})" if written.isdigit() else ""


@contextlib.contextmanager
def sole_server(url: str) -> Iterator[None]:
    """Hold the server lock of ``url``'s SQLite file while the block runs; raise
    :class:`AnotherServer` at once when another process holds it. PostgreSQL and in-memory
    databases: nothing to hold. A lock file that cannot be opened (the database's directory is
    missing or read-only) is skipped: opening the database then fails with SQLite's own reason."""
    database = database_file(url)
    if database is None or database.is_dir():
        yield
        return
    try:
        descriptor = os.open(f"{database}{SUFFIX}", os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:
        yield
        return
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise AnotherServer(
                f"another chatcrm server{_holder(descriptor)} already runs on the SQLite file "
                f"{database}: SQLite is for one process, which runs the scheduler and sends; "
                "stop it first (several processes need PostgreSQL)"
            ) from None
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, f"{os.getpid()}\n".encode("ascii"), 0)
        _HELD.add(database)
        try:
            yield
        finally:
            _HELD.discard(database)
    finally:
        os.close(descriptor)  # closing releases the lock


def server_beside(url: str) -> str | None:
    """Which other process's server holds the lock of ``url``'s SQLite file ("another chatcrm
    server", with its pid when it wrote it); None when none does, when this process is that
    server, and for PostgreSQL and in-memory databases.

    The probe is a shared, non-blocking flock, let go at once: probes never refuse each other,
    and a server starting in that instant is refused as if a server ran (try it again)."""
    database = database_file(url)
    if database is None or database in _HELD:
        return None
    try:
        descriptor = os.open(f"{database}{SUFFIX}", os.O_RDONLY)
    except OSError:  # no lock file: no server of this chatcrm ever ran on the file
        return None
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return f"another chatcrm server{_holder(descriptor)}"
        return None
    finally:
        os.close(descriptor)  # closing lets the probe's lock go
