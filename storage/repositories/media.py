"""Short-lived media files served by URL (channels that take media by URL, such as LINE)."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Final

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from storage.expiry import BATCH, delete_some
from storage.models import Coupon, Media

#: the status of a coupon that can still be used (``storage.repositories.rewards``)
_USABLE: Final = "issued"


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
        coupon_id: int | None = None,
    ) -> str:
        """Store a file until ``expires_at``; returns its unguessable token. ``owner``
        ("<channel>:<chat id>") is the one person it was made for: their erasure deletes it.
        ``coupon_id``: the coupon whose QR it is; it is served only while that coupon is usable."""
        token = secrets.token_urlsafe(24)
        self._s.add(
            Media(
                token=token,
                filename=filename,
                mime_type=mime_type,
                content=content,
                expires_at=expires_at,
                owner=owner,
                coupon_id=coupon_id,
            )
        )
        await self._s.flush()
        return token

    async def get(self, token: str, now: datetime) -> Media | None:
        """The file, unless it expired or is the QR of a coupon that was used or is gone."""
        media = await self._s.get(Media, token)
        if media is None or media.expires_at <= now:
            return None
        if media.coupon_id is not None:
            coupon = await self._s.get(Coupon, media.coupon_id)
            if coupon is None or coupon.status != _USABLE or coupon.expires_at <= now:
                return None
        return media

    async def forget_owners(self, owners: list[str]) -> int:
        """Delete every file made for one of ``owners`` (an erased member's chat accounts)."""
        if not owners:
            return 0
        result = await self._s.execute(delete(Media).where(Media.owner.in_(owners)))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def purge_expired(self, now: datetime, limit: int = BATCH) -> int:
        """Delete at most ``limit`` files expired by ``now``; how many."""
        return await delete_some(self._s, Media, Media.expires_at <= now, limit)
