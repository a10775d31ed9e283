"""The audit log: who did what to whom, appended and counted (for throttling)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any, Final

from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from storage import direct
from storage.models import AuditEntry, table_of

#: first key of the throttle's two-key advisory lock ("THR"; the leader lock has its own class)
THROTTLE_LOCK_CLASS: Final = 0x544852
_HOLD: Final = text(
    "SELECT pg_advisory_xact_lock(:cls, hashtext(current_schema() || ' ' || :actor))"
)

#: built once: a Core INSERT, not an object for the session to flush (every sale, every
#: sign-up and every staff action appends one; nothing reads the entry back in the same event)
_APPEND: Final = insert(table_of(AuditEntry))
_TABLE: Final = table_of(AuditEntry)
#: every column named (storage/direct.py): for an entry that may travel with the next statement
_APPEND_NAMED: Final = insert(_TABLE).values(
    direct.named_parameters(_TABLE, direct.written_columns(_TABLE))
)


class AuditLog:
    """Append-only; nothing in the product edits or deletes an entry."""

    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def record(
        self,
        actor: str,
        action: str,
        now: datetime,
        member_id: int | None = None,
        channel: str | None = None,
        *,
        soon: bool = False,
        **details: Any,
    ) -> None:
        """Append an entry. ``soon``: for an entry whose errors may be the event's next
        statement's (nothing reads it back in the event, nothing conflicts with it): on SQLite
        it travels with that statement, on PostgreSQL it goes on the driver now
        (``storage/direct.py``)."""
        values: dict[str, Any] = {"actor": actor, "action": action, "member_id": member_id}
        values |= {"channel": channel, "details": details, "created_at": now}
        if soon:
            await direct.write(self._s, _APPEND_NAMED, values)
        else:
            await self._s.execute(_APPEND, values)

    async def hold(self, actor: str) -> None:
        """Make other units of work that hold ``actor`` wait until this one ends (a throttle's
        count and the attempt it admits are then one step). PostgreSQL: a transaction advisory
        lock keyed by schema and actor; SQLite: nothing to do, every writing transaction there
        holds the database's write lock from its start (``BEGIN IMMEDIATE``)."""
        if self._s.get_bind().dialect.name == "postgresql":
            await self._s.execute(_HOLD, {"cls": THROTTLE_LOCK_CLASS, "actor": actor})

    async def times(
        self, actor: str, actions: Collection[str], since: datetime
    ) -> Sequence[datetime]:
        """When ``actor`` wrote one of ``actions`` after ``since``, oldest first (throttling)."""
        result = await self._s.execute(
            select(AuditEntry.created_at)
            .where(
                AuditEntry.actor == actor,
                AuditEntry.action.in_(list(actions)),
                AuditEntry.created_at > since,
            )
            .order_by(AuditEntry.created_at, AuditEntry.id)
        )
        return result.scalars().all()
