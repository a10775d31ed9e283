"""Every statement an update runs, whichever way it travels: SQLAlchemy's cursor, the driver
(``storage/direct.py``: SQLite's one-trip connection, asyncpg's), or sent along with the next
statement on SQLite (savepoints, an event's record, a write nobody reads)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event

from bot.bootstrap import App
from storage import direct, pg_driver
from storage.sqlite_driver import OneTripConnection


def _word(sql: str) -> str:
    return sql.split()[0].upper()


@contextlib.contextmanager
def traced(app: App, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, str]]]:
    """``(how, sql)`` of each statement while the block runs: ``how`` is ``sa`` (SQLAlchemy's
    cursor), ``driver`` (a statement of its own on the driver) or ``along`` (SQLite: sent in
    the next statement's trip)."""
    seen: list[tuple[str, str]] = []

    def _sa(_c: Any, _cur: Any, statement: str, *_rest: Any) -> None:
        seen.append(("sa", statement))

    one_trip, fetch, execute = direct._one_trip_rows, pg_driver.fetch, pg_driver.execute
    with_next = OneTripConnection.with_next_statement

    async def _one_trip(*args: Any) -> Any:
        seen.append(("driver", args[3]))
        return await one_trip(*args)

    async def _fetch(*args: Any) -> Any:
        seen.append(("driver", args[2]))
        return await fetch(*args)

    async def _execute(*args: Any) -> Any:
        seen.append(("driver", args[2]))
        return await execute(*args)

    def _along(self: OneTripConnection, sql: str, *rest: Any) -> None:
        seen.append(("along", sql))
        with_next(self, sql, *rest)

    monkeypatch.setattr(direct, "_one_trip_rows", _one_trip)
    monkeypatch.setattr(pg_driver, "fetch", _fetch)
    monkeypatch.setattr(pg_driver, "execute", _execute)
    monkeypatch.setattr(OneTripConnection, "with_next_statement", _along)
    event.listen(app.engine.sync_engine, "before_cursor_execute", _sa)
    try:
        yield seen
    finally:
        event.remove(app.engine.sync_engine, "before_cursor_execute", _sa)
        monkeypatch.undo()


def trips(seen: list[tuple[str, str]]) -> list[str]:
    """The first word of each statement that makes a trip of its own (``BEGIN``/``COMMIT`` and
    what travels along left out)."""
    return [_word(sql) for how, sql in seen if how != "along" and _word(sql) not in _ENDS]


_ENDS = ("BEGIN", "COMMIT", "ROLLBACK")
