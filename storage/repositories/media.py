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
