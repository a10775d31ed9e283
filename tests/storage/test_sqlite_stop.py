"""A SQLite connection stopped while it closes still closes: its transaction ends with it.

SQLAlchemy drops a connection whose task was cancelled in the middle of a statement: it closes
it (a graceful close, in a task of its own), and when the task is cancelled once more while it
waits for that close, it stops the connection at once instead. At shutdown a scheduled job gets
both: ``jobs.scheduler.running`` cancels it, and the scheduler's own shutdown, which runs a loop
turn later, cancels it again. The close and the stop then race. The connection had begun its
transaction (``BEGIN IMMEDIATE`` rides with the first statement), so until it is really closed
it holds SQLite's write lock, and every other writer of the process waits its busy timeout: the
outbox's last pass at the end of a ``chatcrm chat`` whose reader went away did, and the process
waited for that pass in turn.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

from storage.sqlite_driver import connector


def _write_lock_taken(path: Path) -> bool:
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError:  # database is locked
        return True
    finally:
        other.close()


async def test_a_connection_stopped_while_it_closes_releases_the_write_lock(
    tmp_path: Path,
) -> None:
    path = tmp_path / "lock.db"
    connection = await connector((str(path),), {"isolation_level": None})()
    await connection.run(lambda: connection._conn.execute("CREATE TABLE t (id INTEGER)"))
    connection.begin_with_next_statement("BEGIN IMMEDIATE")
    await connection.cursor().execute("INSERT INTO t VALUES (1)")
    assert _write_lock_taken(path)

    # the database thread is busy (the cancelled statement's trip, in the product)
    started, gate = threading.Event(), threading.Event()

    def hold() -> None:
        started.set()
        gate.wait()

    busy = asyncio.ensure_future(connection.run(hold))
    await asyncio.to_thread(started.wait)
    closing = asyncio.ensure_future(connection.close())  # SQLAlchemy's graceful close...
    stopped = connection.stop()  # ...and the stop of the second cancellation, before it runs
    assert stopped is not None
    for _ in range(10):  # the close's first steps run: it sees the connection stopping
        await asyncio.sleep(0)
    gate.set()
    await busy
    await stopped

    assert not _write_lock_taken(path)
    # the guard only turns a close left waiting for nothing into a failure instead of a hang
    await asyncio.wait_for(closing, timeout=60)
    assert not connection.is_open
