"""Changes in whether a member can be reached (``shop.campaigns.contact_events``). Never commits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ContactEvent


class ContactEvents:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add(self, member_id: int, channel: str, kind: str, now: datetime) -> None:
        """Append one event (never updated, never deleted except by erasure of the member)."""
        self._s.add(ContactEvent(member_id=member_id, channel=channel, kind=kind, occurred_at=now))
