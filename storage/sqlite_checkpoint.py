"""SQLite's WAL copied back into the database file beside the commits, not inside one.

In WAL mode the commit that takes the WAL past ``wal_autocheckpoint`` pages (SQLite's default
1,000) copies the WAL into the database file, and syncs both, before it returns. On SQLite the
bus has one writer (``handlers/group_commit.py``): every event queued behind that commit waits
for the copy and the syncs too. So the engine's connections leave the copy to a thread of their
own (:class:`Checkpointer`, one per engine, on a connection of its own): every
:data:`EVERY_SECONDS` it runs a ``PASSIVE`` checkpoint, which copies what it can without
taking the write lock and without waiting for readers or the writer; the writer starts the WAL
over once a checkpoint has copied all of it, as with the automatic one. The connections keep an
automatic checkpoint of :data:`BACKSTOP_PAGES`, so the WAL stays bounded should the thread
fall behind or stop. What a commit promises is unchanged: ``synchronous`` is the engine's, and
a checkpoint syncs as the automatic one did.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import weakref
from collections.abc import Callable
from typing import Any, Final

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger(__name__)

#: how often the thread copies the WAL back: about what 1,000 pages take to write at a busy
#: shop's rate; an idle WAL costs a look at its index
EVERY_SECONDS: Final = 0.5
#: the engine's connections' own automatic checkpoint, for when the thread falls behind
BACKSTOP_PAGES: Final = 10_000


class Checkpointer:
    """A thread that runs ``PRAGMA wal_checkpoint(PASSIVE)`` every :data:`EVERY_SECONDS` on a
    connection of its own to the file ``connect`` opens, until :meth:`stop`."""

    def __init__(self, connect: Callable[[], sqlite3.Connection], synchronous: str) -> None:
        self._connect = connect
        self._synchronous = synchronous
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        """Start the thread unless it runs (the engine's every new connection asks)."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._stopping.clear()
            self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)
            self._thread.start()

    def stop_soon(self) -> None:
        """Let the thread end after its current turn, not waiting for it."""
        self._stopping.set()

    def stop(self) -> None:
        with self._lock:
            thread = self._thread
        if thread is not None:
            self._stopping.set()
            thread.join()

    @property
    def running(self) -> bool:
        thread = self._thread
        return thread is not None and thread.is_alive()

    def _run(self) -> None:
        try:
            connection = self._connect()
        except sqlite3.Error:  # the connections' own automatic checkpoint still runs
            log.warning("the WAL checkpoint thread could not open the database", exc_info=True)
            return
        try:
            connection.execute(f"PRAGMA synchronous={self._synchronous.upper()}")
            while not self._stopping.wait(EVERY_SECONDS):
                checkpoint(connection)
        finally:
            connection.close()


def checkpoint(connection: sqlite3.Connection) -> tuple[int, int, int]:
    """One ``PASSIVE`` checkpoint: (1 if it could not run, WAL frames, frames copied back)."""
    try:
        row = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    except sqlite3.Error:  # a busy or vanished file: the next turn tries again
        log.debug("a WAL checkpoint failed", exc_info=True)
        return (1, -1, -1)
    return (int(row[0]), int(row[1]), int(row[2]))


def checkpoint_beside(
    engine: AsyncEngine, connect: Callable[[], sqlite3.Connection], synchronous: str
) -> Checkpointer:
    """Give ``engine`` (a SQLite file in WAL mode) a :class:`Checkpointer`: its connections
    checkpoint only past :data:`BACKSTOP_PAGES`; the thread starts with the first connection
    and stops when the engine is disposed (a new connection after that starts it again) or
    dropped."""
    checkpointer = Checkpointer(connect, synchronous)

    @event.listens_for(engine.sync_engine, "connect")
    def _opened(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA wal_autocheckpoint={BACKSTOP_PAGES}")
        cursor.close()
        checkpointer.start()

    @event.listens_for(engine.sync_engine, "engine_disposed")
    def _disposed(_engine: Any) -> None:
        checkpointer.stop()

    # an engine dropped undisposed (a short command, a test) takes its thread with it
    weakref.finalize(engine.sync_engine, checkpointer.stop_soon)
    return checkpointer
