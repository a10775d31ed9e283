"""Counting the trips to SQLite's database thread (each ``aiosqlite`` ``_execute``)."""

from __future__ import annotations

from typing import Any

import aiosqlite
import pytest


def count_trips(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """From now on (until ``monkeypatch`` is undone), the name of what each trip ran."""
    made: list[str] = []
    send = aiosqlite.Connection._execute

    async def counting(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        made.append(getattr(fn, "__name__", "?"))
        return await send(self, fn, *args, **kwargs)  # type: ignore[no-untyped-call]

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counting)
    return made
