from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import PointsEntry


class PointsLedger:
    """Append-only points entries; there is no update or delete here on purpose."""

    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def append(
        self,
        member_id: int,
        delta: int,
        reason: str,
        now: datetime,
        earned_at: datetime | None = None,
        sale_id: int | None = None,
        note: str | None = None,
    ) -> PointsEntry:
        entry = PointsEntry(
            member_id=member_id,
            delta=delta,
            reason=reason,
            sale_id=sale_id,
            note=note,
            earned_at=earned_at or now,
            created_at=now,
        )
        self._s.add(entry)
        await self._s.flush()
        return entry

    async def balance(self, member_id: int) -> int:
        result = await self._s.execute(
            select(func.coalesce(func.sum(PointsEntry.delta), 0)).where(
                PointsEntry.member_id == member_id
            )
        )
        return int(result.scalar_one())

    async def entries(self, member_id: int) -> Sequence[PointsEntry]:
        result = await self._s.execute(
            select(PointsEntry)
            .where(PointsEntry.member_id == member_id)
            .order_by(PointsEntry.earned_at, PointsEntry.id)
        )
        return result.scalars().all()
