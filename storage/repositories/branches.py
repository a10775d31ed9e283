"""The shop's branches: every one (open and closed), the open ones, and one by code or id.

A branch is never deleted: sales, staff and members keep pointing at it. Closing one clears
``active``; the choices offered in chat read :meth:`Branches.active` only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, NamedTuple

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import direct
from storage.models import Branch, table_of
from storage.upsert import insert_once


class OpenBranch(NamedTuple):
    """An open branch as a choice in chat: its id and names."""

    id: int
    name_th: str
    name_en: str


#: built once: every coupon redeemed at the counter reads it
_ACTIVE: Final = select(Branch).where(Branch.active.is_(True)).order_by(Branch.id)
_TABLE: Final = table_of(Branch)
#: built once: every sign-up's gender and branch steps read it
_CHOICES: Final = (
    select(_TABLE.c.id, _TABLE.c.name_th, _TABLE.c.name_en)
    .where(_TABLE.c.active.is_(True))
    .order_by(_TABLE.c.id)
)


class Branches:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def active(self) -> Sequence[Branch]:
        result = await self._s.execute(_ACTIVE)
        return result.scalars().all()

    async def choices(self) -> list[OpenBranch]:
        """The open branches as plain values, in :meth:`active`'s order: what a choice in chat
        shows (read on the driver, no ORM object made: the sign-up reads them twice per
        member)."""
        return [OpenBranch._make(row) for row in await direct.fetch_all(self._s, _CHOICES, {})]

    async def every(self) -> Sequence[Branch]:
        """Open and closed branches, in the order they were added."""
        result = await self._s.execute(select(Branch).order_by(Branch.id))
        return result.scalars().all()

    async def by_code(self, code: str) -> Branch | None:
        result = await self._s.execute(select(Branch).where(Branch.code == code.lower()))
        return result.scalar_one_or_none()

    async def get(self, branch_id: int) -> Branch | None:
        return await self._s.get(Branch, branch_id)

    async def add(self, code: str, name_th: str, name_en: str) -> Branch | None:
        """A new open branch; None when ``code`` is taken, also by a branch another
        transaction added at the same moment (this one waits for its commit)."""
        values = {"code": code, "name_th": name_th, "name_en": name_en, "active": True}
        if not await insert_once(self._s, Branch, values, ("code",)):
            return None
        return await self.by_code(code)

    async def rename(self, branch: Branch, name_th: str, name_en: str) -> None:
        branch.name_th, branch.name_en = name_th, name_en
        await self._s.flush()

    async def set_open(self, branch: Branch, is_open: bool) -> None:
        branch.active = is_open
        await self._s.flush()
