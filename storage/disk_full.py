"""A database whose disk is full: every write fails while reads still work, so ``SELECT 1``
answers and ``/healthz`` would say ok while every webhook is refused.

A write refused for want of space marks the engine for :data:`FULL_FOR` seconds after the last
such refusal (each one starts the time again; nothing is probed, so the shop is reported able
to write again once that time has passed without another). SQLite's refusal (SQLITE_FULL, also
its ``max_page_count``) is marked by :mod:`storage.sqlite_file`; PostgreSQL's (SQLSTATE 53100,
``disk_full``: "could not extend file", a full WAL or temporary space) here.
"""

from __future__ import annotations

import time
from typing import Any, Final
from weakref import WeakKeyDictionary

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine

#: seconds after a write refused as full that the shop is reported unable to write
FULL_FOR: Final = 60.0
#: PostgreSQL's SQLSTATE for a full disk
DISK_FULL: Final = "53100"


class FullMark:
    """When a write last failed for want of space."""

    def __init__(self) -> None:
        self._at: float | None = None

    def refused(self) -> None:
        self._at = time.monotonic()

    def recent(self) -> bool:
        """A write failed full less than :data:`FULL_FOR` seconds ago."""
        at = self._at
        return at is not None and time.monotonic() - at < FULL_FOR


_MARKS: WeakKeyDictionary[Engine, FullMark] = WeakKeyDictionary()


def watch_postgres_disk(engine: AsyncEngine) -> None:
    """Mark ``engine`` full whenever a statement fails with SQLSTATE 53100."""
    mark = _MARKS[engine.sync_engine] = FullMark()

    @event.listens_for(engine.sync_engine, "handle_error")
    def _failed(context: Any) -> None:
        if getattr(context.original_exception, "sqlstate", None) == DISK_FULL:
            mark.refused()


def disk_full_problem(engine: AsyncEngine) -> str | None:
    """Why a PostgreSQL ``engine`` cannot keep what it writes now, as a sentence; None if a
    write has not failed full in the last :data:`FULL_FOR` seconds (and for SQLite, whose file
    :func:`storage.sqlite_file.shop_file_problem` answers for)."""
    mark = _MARKS.get(engine.sync_engine)
    if mark is None or not mark.recent():
        return None
    return "the database server's disk is full: a write failed in the last minute"
