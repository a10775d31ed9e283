"""Small repositories: branches, audit log and media (the inbox lives in
``storage.repositories.inbox``, settings in ``storage.repositories.settings``)."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditEntry, Branch, Media


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


class MediaStore:
    """Short-lived files behind unguessable URLs, for channels that take media by URL."""

    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def put(self, filename: str, mime_type: str, content: bytes, expires_at: datetime) -> str:
        token = secrets.token_urlsafe(24)
        self._s.add(
            Media(
                token=token,
                filename=filename,
                mime_type=mime_type,
                content=content,
                expires_at=expires_at,
            )
        )
        await self._s.flush()
        return token

    async def get(self, token: str, now: datetime) -> Media | None:
        media = await self._s.get(Media, token)
        if media is None or media.expires_at <= now:
            return None
        return media

    async def purge_expired(self, now: datetime) -> int:
        result = await self._s.execute(delete(Media).where(Media.expires_at <= now))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
