"""Short-lived media files served by URL (channels that take media by URL, such as LINE)."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Media


class MediaStore:
    """Short-lived files behind unguessable URLs, for channels that take media by URL."""

    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def put(
        self,
        filename: str,
        mime_type: str,
        content: bytes,
        expires_at: datetime,
        *,
        owner: str | None = None,
    ) -> str:
        """Store a file until ``expires_at``; returns its unguessable token. ``owner``
        ("<channel>:<chat id>") is the one person it was made for: their erasure deletes it."""
        token = secrets.token_urlsafe(24)
        self._s.add(
            Media(
                token=token,
                filename=filename,
                mime_type=mime_type,
                content=content,
                expires_at=expires_at,
                owner=owner,
            )
        )
        await self._s.flush()
        return token

    async def get(self, token: str, now: datetime) -> Media | None:
        media = await self._s.get(Media, token)
        if media is None or media.expires_at <= now:
            return None
        return media

    async def forget_owners(self, owners: list[str]) -> int:
        """Delete every file made for one of ``owners`` (an erased member's chat accounts)."""
        if not owners:
            return 0
        result = await self._s.execute(delete(Media).where(Media.owner.in_(owners)))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def purge_expired(self, now: datetime) -> int:
        result = await self._s.execute(delete(Media).where(Media.expires_at <= now))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
