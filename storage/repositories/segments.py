"""Saved segments: a name and a rule in the segment language (never commits)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Segment
from storage.upsert import insert_once


class Segments:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def all(self) -> Sequence[Segment]:
        result = await self._s.execute(select(Segment).order_by(Segment.name))
        return result.scalars().all()

    async def by_name(self, name: str) -> Segment | None:
        """Names are matched case-insensitively (``Regulars`` and ``regulars`` are one)."""
        result = await self._s.execute(
            select(Segment).where(func.lower(Segment.name) == name.casefold())
        )
        return result.scalars().first()

    async def add(self, name: str, rule: str, created_by: str, now: datetime) -> bool:
        """Save a new segment; False when ``name`` is taken, also by a segment another
        transaction saved at the same moment (this one waits for its commit)."""
        values = {
            "name": name,
            "rule": rule,
            "created_by": created_by,
            "created_at": now,
            "updated_at": now,
        }
        return await insert_once(self._s, Segment, values, ("name",))

    async def delete(self, segment_id: int) -> bool:
        result = await self._s.execute(delete(Segment).where(Segment.id == segment_id))
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def get(self, segment_id: int) -> Segment | None:
        return await self._s.get(Segment, segment_id)

    async def change(self, segment: Segment, name: str, rule: str, now: datetime) -> None:
        segment.name, segment.rule, segment.updated_at = name, rule, now
        await self._s.flush()
