"""Columns that hot-path repositories write with Core statements on objects the session holds.

A Core ``UPDATE`` costs one statement; changing a mapped attribute costs the same statement plus
the session's flush machinery at the next query. The hot path (every event's arrival, every
customer message to the inbox) writes with Core and shows the new values on the session's
objects as already stored (``set_committed_value``). The session does not know of those writes,
so a savepoint that rolls them back would leave the objects showing values the database no longer
has: :meth:`CoreWrites.rolled_back` expires those objects, and the next read loads them again.

A row a Core ``INSERT`` wrote joins the session as stored (``make_transient_to_detached`` and
``add``), which the session does not count as its own insert either: a savepoint that rolls the
row back must take the object out of the session (:meth:`CoreWrites.inserted`), as the session
does with the objects it inserted there itself. Left in, it would stand for a row that is gone,
and on SQLite, which gives the next insert the same id, the session would refuse the next row's
object as a second one of that id.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value


class CoreWrites:
    """The Core writes of one unit of work, in order (see the module docstring)."""

    def __init__(self, session: AsyncSession) -> None:
        self._s = session
        #: each object written, and whether the write was its row's INSERT
        self._written: list[tuple[Any, bool]] = []

    def wrote(self, obj: Any, values: dict[str, Any]) -> None:
        """``values`` were just written to ``obj``'s row: show them on ``obj`` as stored."""
        for key, value in values.items():
            set_committed_value(obj, key, value)
        self._written.append((obj, False))

    def inserted(self, obj: Any) -> None:
        """``obj``'s row was just inserted and ``obj`` attached to the session as that row."""
        self._written.append((obj, True))

    def mark(self) -> int:
        """Where :meth:`rolled_back` starts from (taken when a savepoint begins)."""
        return len(self._written)

    def rolled_back(self, mark: int) -> None:
        """A savepoint undid the writes made since ``mark``: their objects are expired whole,
        as the session expires the objects it saw change in a savepoint it rolls back (the
        next query or ``session.get`` loads them again; expiring only the written columns
        would leave ``session.get`` returning an object that loads them on attribute access).
        Objects whose row was inserted since are taken out of the session instead."""
        undone = self._written[mark:]
        del self._written[mark:]
        for obj, inserted in undone:
            if inserted:
                if obj in self._s:
                    self._s.expunge(obj)
            elif obj in self._s:
                self._s.expire(obj)
