from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Final

from sqlalchemy import String, cast, exists, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Staff, StaffInvite
from storage.repositories.console import ConsoleAccess

#: how an invite's ``created_by`` names a staff member: ``staff:<id>`` (the audit actor)
STAFF: Final = "staff:"


def code_hash(code: str) -> str:
    """Invite and one-time codes are stored hashed; compare by hashing what was typed."""
    return hashlib.sha256(code.strip().upper().encode()).hexdigest()


class StaffMembers:
    """Staff accounts (by chat identity) and their one-time invites."""

    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def by_identity(self, channel: str, user_id: str) -> Staff | None:
        """The active staff account of a chat identity; renaming on the platform changes nothing."""
        result = await self._s.execute(
            select(Staff).where(
                Staff.channel == channel, Staff.user_id == user_id, Staff.active.is_(True)
            )
        )
        return result.scalar_one_or_none()

    async def get(self, staff_id: int) -> Staff | None:
        return await self._s.get(Staff, staff_id)

    async def active(self) -> Sequence[Staff]:
        result = await self._s.execute(
            select(Staff).where(Staff.active.is_(True)).order_by(Staff.id)
        )
        return result.scalars().all()

    async def add(
        self,
        channel: str,
        user_id: str,
        name: str,
        role: str,
        branch_id: int | None,
        now: datetime,
    ) -> Staff:
        """Make a chat identity staff (reactivating an earlier, removed account of it)."""
        result = await self._s.execute(
            select(Staff).where(Staff.channel == channel, Staff.user_id == user_id)
        )
        staff = result.scalar_one_or_none()
        if staff is None:
            staff = Staff(channel=channel, user_id=user_id, created_at=now)
            self._s.add(staff)
        elif (staff.active, staff.role, staff.branch_id) != (True, role, branch_id):
            # a console session was started with the old role and branch: it ends with them
            await ConsoleAccess(self._s).end_all_of(staff.id)
        staff.name = name
        staff.role = role
        staff.branch_id = branch_id
        staff.active = True
        await self._s.flush()
        return staff

    async def deactivate(self, staff: Staff) -> None:
        """End a staff account (the row stays: sales and audit rows point at it) and every
        web console session and sign-in link of it, in the same transaction."""
        staff.active = False
        await self._s.flush()
        await ConsoleAccess(self._s).end_all_of(staff.id)

    async def create_invite(
        self,
        code: str,
        role: str,
        branch_id: int | None,
        created_by: str,
        now: datetime,
        expires_at: datetime,
    ) -> StaffInvite:
        invite = StaffInvite(
            code_hash=code_hash(code),
            role=role,
            branch_id=branch_id,
            created_by=created_by,
            created_at=now,
            expires_at=expires_at,
        )
        self._s.add(invite)
        await self._s.flush()
        return invite

    async def use_invite(self, code: str, now: datetime) -> StaffInvite | None:
        """Mark the invite used and return it; None if unknown, expired, already used, or made
        by a staff member who is no longer active (their access, and the access they gave
        away, ended with their removal).

        A conditional update, so two people claiming one code at once cannot both win.
        """
        hashed = code_hash(code)
        inviter_active = exists().where(
            Staff.active.is_(True),
            StaffInvite.created_by == literal(STAFF) + cast(Staff.id, String),
        )
        result = await self._s.execute(
            update(StaffInvite)
            .where(
                StaffInvite.code_hash == hashed,
                StaffInvite.used_at.is_(None),
                StaffInvite.expires_at > now,
                or_(~StaffInvite.created_by.startswith(STAFF), inviter_active),
            )
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            return None
        found = await self._s.execute(select(StaffInvite).where(StaffInvite.code_hash == hashed))
        return found.scalar_one()

    async def lock_owners(self) -> Sequence[Staff]:
        """The active owners, their rows locked until the unit of work ends (PostgreSQL: FOR
        UPDATE, in id order so two removals wait for each other instead of deadlocking; SQLite
        serialises writers already), freshly read: a count of them holds until the commit."""
        result = await self._s.execute(
            select(Staff)
            .where(Staff.active.is_(True), Staff.role == "owner")
            .order_by(Staff.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return result.scalars().all()

    async def outstanding_invites(self, now: datetime) -> Sequence[StaffInvite]:
        """Invites nobody has used that have not expired (nor been revoked), oldest first."""
        result = await self._s.execute(
            select(StaffInvite)
            .where(StaffInvite.used_at.is_(None), StaffInvite.expires_at > now)
            .order_by(StaffInvite.id)
        )
        return result.scalars().all()

    async def revoke_invites(
        self,
        now: datetime,
        invite_id: int | None = None,
        created_by: str | None = None,
        branch_id: int | None = None,
    ) -> Sequence[int]:
        """End the outstanding invites with id ``invite_id`` and/or made by ``created_by``
        and/or to branch ``branch_id``; the ids of those it ended. A revoked invite expires now
        (a conditional update: a claim at the same moment either used it first or finds it
        gone)."""
        query = update(StaffInvite).where(
            StaffInvite.used_at.is_(None), StaffInvite.expires_at > now
        )
        if invite_id is not None:
            query = query.where(StaffInvite.id == invite_id)
        if created_by is not None:
            query = query.where(StaffInvite.created_by == created_by)
        if branch_id is not None:
            query = query.where(StaffInvite.branch_id == branch_id)
        result = await self._s.execute(
            query.values(expires_at=now)
            .returning(StaffInvite.id)
            .execution_options(synchronize_session=False)
        )
        return result.scalars().all()
