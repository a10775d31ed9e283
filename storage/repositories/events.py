from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ProcessedEvent


class EventLog:
    """Remembers which webhook events were handled, so a redelivery has no second effect."""

    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def first_time(self, event_key: str, now: datetime) -> bool:
        """Record ``event_key``; False if it was already recorded (by this or a concurrent event).

        The insert is flushed inside a savepoint at once, so a concurrent delivery of the same
        event waits on the primary key and then sees it, and the caller can skip all work.
        """
        if await self._s.get(ProcessedEvent, event_key) is not None:
            return False
        try:
            async with self._s.begin_nested():
                self._s.add(ProcessedEvent(event_key=event_key, processed_at=now))
        except IntegrityError:
            return False
        return True

    async def forget_before(self, moment: datetime) -> int:
        result = await self._s.execute(
            delete(ProcessedEvent).where(ProcessedEvent.processed_at < moment)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def seen(self, event_key: str) -> bool:
        row = await self._s.execute(
            select(ProcessedEvent.event_key).where(ProcessedEvent.event_key == event_key)
        )
        return row.first() is not None
