"""The shop's branches: the active ones, and one by code or id."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Branch


class Branches:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def active(self) -> Sequence[Branch]:
        result = await self._s.execute(
            select(Branch).where(Branch.active.is_(True)).order_by(Branch.id)
        )
        return result.scalars().all()

    async def by_code(self, code: str) -> Branch | None:
        result = await self._s.execute(select(Branch).where(Branch.code == code.lower()))
        return result.scalar_one_or_none()

    async def get(self, branch_id: int) -> Branch | None:
        return await self._s.get(Branch, branch_id)
