from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ChannelIdentity
from storage.upsert import insert_once


class Identities:
    """Chat accounts, created on first contact and linked to a member at sign-up."""

    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def get(self, channel: str, user_id: str) -> ChannelIdentity | None:
        result = await self._s.execute(
            select(ChannelIdentity).where(
                ChannelIdentity.channel == channel, ChannelIdentity.user_id == user_id
            )
        )
        return result.scalar_one_or_none()

    async def touch(
        self,
        channel: str,
        user_id: str,
        now: datetime,
        display_name: str | None = None,
        language_code: str | None = None,
    ) -> ChannelIdentity:
        """The identity for (channel, user_id), created if new, with its last-seen time updated."""
        identity = await self.get(channel, user_id)
        if identity is None:
            # two first events of one person may race: whoever inserts second inserts nothing
            await insert_once(
                self._s,
                ChannelIdentity,
                {
                    "channel": channel,
                    "user_id": user_id,
                    "display_name": display_name,
                    "language_code": language_code,
                    "reachable": True,
                    "first_seen_at": now,
                    "last_seen_at": now,
                },
                ["channel", "user_id"],
            )
            identity = await self.get(channel, user_id)
            assert identity is not None
        else:
            identity.last_seen_at = now
            if display_name and identity.member_id is None:
                identity.display_name = display_name
            if language_code:
                identity.language_code = language_code
        return identity

    async def of_member(self, member_id: int) -> Sequence[ChannelIdentity]:
        result = await self._s.execute(
            select(ChannelIdentity)
            .where(ChannelIdentity.member_id == member_id)
            .order_by(ChannelIdentity.id)
        )
        return result.scalars().all()

    async def preferred(self, member_id: int) -> ChannelIdentity | None:
        """The chat account to write to a member on: reachable, most recently seen (a member
        linked on LINE and Telegram hears from the shop where they talked last)."""
        result = await self._s.execute(
            select(ChannelIdentity)
            .where(ChannelIdentity.member_id == member_id, ChannelIdentity.reachable.is_(True))
            .order_by(ChannelIdentity.last_seen_at.desc(), ChannelIdentity.id.desc())
            .limit(1)
        )
        return result.scalar_one_or_none()
