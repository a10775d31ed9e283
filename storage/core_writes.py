"""Columns that hot-path repositories write with Core statements on objects the session holds.

A Core ``UPDATE`` costs one statement; changing a mapped attribute costs the same statement plus
the session's flush machinery at the next query. The hot path (every event's arrival, every
customer message to the inbox) writes with Core and shows the new values on the session's
objects as already stored (``set_committed_value``). The session does not know of those writes,
so a savepoint that rolls them back would leave the objects showing values the database no longer
has: :meth:`CoreWrites.rolled_back` expires those objects, and the next read loads them again.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value


class CoreWrites:
    """The Core writes of one unit of work, in order (see the module docstring)."""

    def __init__(self, session: AsyncSession) -> None:
        self._s = session
        self._written: list[Any] = []

    def wrote(self, obj: Any, values: dict[str, Any]) -> None:
        """``values`` were just written to ``obj``'s row: show them on ``obj`` as stored."""
        for key, value in values.items():
            set_committed_value(obj, key, value)
        self._written.append(obj)

    def mark(self) -> int:
        """Where :meth:`rolled_back` starts from (taken when a savepoint begins)."""
        return len(self._written)

    def rolled_back(self, mark: int) -> None:
        """A savepoint undid the writes made since ``mark``: their objects are expired whole,
        as the session expires the objects it saw change in a savepoint it rolls back (the
        next query or ``session.get`` loads them again; expiring only the written columns
        would leave ``session.get`` returning an object that loads them on attribute access)."""
        for obj in self._written[mark:]:
            self._s.expire(obj)
        del self._written[mark:]
