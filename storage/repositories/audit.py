"""The audit log: who did what to whom, appended and counted (for throttling)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditEntry


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
        **details: Any,
    ) -> None:
        self._s.add(
            AuditEntry(
                actor=actor,
                action=action,
                member_id=member_id,
                channel=channel,
                details=details,
                created_at=now,
            )
        )
        await self._s.flush()

    async def count(self, actor: str, action: str, since: datetime) -> int:
        """How many ``action`` entries ``actor`` has written since ``since`` (throttling)."""
        result = await self._s.execute(
            select(func.count())
            .select_from(AuditEntry)
            .where(
                AuditEntry.actor == actor,
                AuditEntry.action == action,
                AuditEntry.created_at >= since,
            )
        )
        return int(result.scalar_one())
