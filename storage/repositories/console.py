"""Sign-in links and sessions of the web console (the rules: ``shop.console``)."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.expiry import BATCH, delete_some
from storage.models import ConsoleLink, ConsoleSession


def secret_hash(secret: str) -> str:
    """Links and session ids are stored as their SHA-256: a database dump signs nobody in."""
    return hashlib.sha256(secret.encode()).hexdigest()


class ConsoleAccess:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add_link(
        self, token: str, staff_id: int, locale: str, now: datetime, expires_at: datetime
    ) -> None:
        self._s.add(
            ConsoleLink(
                token_hash=secret_hash(token),
                staff_id=staff_id,
                locale=locale,
                created_at=now,
                expires_at=expires_at,
            )
        )
        await self._s.flush()

    async def use_link(self, token: str, now: datetime) -> ConsoleLink | None:
        """Mark the link used and return it; None if unknown, used or expired. A conditional
        update: two browsers opening one link at once cannot both sign in."""
        hashed = secret_hash(token)
        result = await self._s.execute(
            update(ConsoleLink)
            .where(
                ConsoleLink.token_hash == hashed,
                ConsoleLink.used_at.is_(None),
                ConsoleLink.expires_at > now,
            )
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            return None
        found = await self._s.execute(select(ConsoleLink).where(ConsoleLink.token_hash == hashed))
        return found.scalar_one()

    async def open_link_locale(self, token: str, now: datetime) -> str | None:
        """The language of a link that would still sign in (its confirmation page; nothing
        is used); None when it would not."""
        found = await self._s.execute(
            select(ConsoleLink.locale).where(
                ConsoleLink.token_hash == secret_hash(token),
                ConsoleLink.used_at.is_(None),
                ConsoleLink.expires_at > now,
            )
        )
        return found.scalar_one_or_none()

    async def start(
        self,
        session_id: str,
        link: ConsoleLink,
        role: str,
        branch_id: int | None,
        csrf: str,
        now: datetime,
        expires_at: datetime,
    ) -> ConsoleSession:
        row = ConsoleSession(
            id_hash=secret_hash(session_id),
            staff_id=link.staff_id,
            role=role,
            branch_id=branch_id,
            locale=link.locale,
            csrf=csrf,
            created_at=now,
            last_seen_at=now,
            expires_at=expires_at,
        )
        self._s.add(row)
        await self._s.flush()
        return row

    async def get(self, session_id: str) -> ConsoleSession | None:
        return await self._s.get(ConsoleSession, secret_hash(session_id))

    async def touch(self, row: ConsoleSession, now: datetime, expires_at: datetime) -> None:
        row.last_seen_at = now
        row.expires_at = expires_at
        await self._s.flush()

    async def end(self, session_id: str) -> None:
        await self._s.execute(
            delete(ConsoleSession).where(ConsoleSession.id_hash == secret_hash(session_id))
        )

    async def end_all_of(self, staff_id: int) -> None:
        """Sign a staff member out everywhere (removed, or their role or branch changed)."""
        await self._s.execute(delete(ConsoleSession).where(ConsoleSession.staff_id == staff_id))
        await self._s.execute(
            update(ConsoleLink)
            .where(ConsoleLink.staff_id == staff_id, ConsoleLink.used_at.is_(None))
            .values(expires_at=ConsoleLink.created_at)
            .execution_options(synchronize_session=False)
        )

    async def forget_links(self, expired_by: datetime, limit: int = BATCH) -> int:
        """Delete at most ``limit`` links that expired by ``expired_by`` (used or not: neither
        signs anyone in any more); how many."""
        expired = ConsoleLink.expires_at <= expired_by
        return await delete_some(self._s, ConsoleLink, expired, limit)

    async def forget_sessions(self, expired_by: datetime, limit: int = BATCH) -> int:
        """Delete at most ``limit`` sessions that lapsed by ``expired_by``; how many."""
        expired = ConsoleSession.expires_at <= expired_by
        return await delete_some(self._s, ConsoleSession, expired, limit)
