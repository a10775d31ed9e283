"""Campaigns and their audience snapshots. Never commits: the unit of work does."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Campaign, CampaignMember, OutboxMessage, table_of

#: a withdrawn outbox row: the dispatcher only ever sends ``pending`` ones
CANCELLED: Final = "cancelled"
STARTABLE: Final = ("draft", "scheduled")


class Campaigns:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add(self, campaign: Campaign) -> Campaign:
        self._s.add(campaign)
        await self._s.flush()
        return campaign

    async def get(self, campaign_id: int) -> Campaign | None:
        return await self._s.get(Campaign, campaign_id, populate_existing=True)

    async def recent(self, limit: int = 20) -> Sequence[Campaign]:
        result = await self._s.execute(select(Campaign).order_by(Campaign.id.desc()).limit(limit))
        return result.scalars().all()

    async def newest(self) -> Campaign | None:
        """The campaign created last, if any."""
        return await self._s.scalar(select(Campaign).order_by(Campaign.id.desc()))

    async def newest_started(self) -> Campaign | None:
        """The campaign whose send started last (by start time, then id), if any."""
        started = select(Campaign).where(Campaign.started_at.is_not(None))
        return await self._s.scalar(
            started.order_by(Campaign.started_at.desc(), Campaign.id.desc())
        )

    async def newest_named(self, name: str) -> Campaign | None:
        """The newest campaign named exactly ``name``, if any."""
        by_name = select(Campaign).where(Campaign.name == name).order_by(Campaign.id.desc())
        return await self._s.scalar(by_name)

    async def claim_start(self, campaign_id: int, now: datetime) -> bool:
        """Move a draft or scheduled campaign to ``sending``: True for exactly one caller, so a
        campaign is started once even if the job and an owner's /send race."""
        result = await self._s.execute(
            update(Campaign)
            .where(Campaign.id == campaign_id, Campaign.status.in_(STARTABLE))
            .values(status="sending", started_at=now)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def due_scheduled(self, now: datetime) -> Sequence[int]:
        result = await self._s.execute(
            select(Campaign.id)
            .where(Campaign.status == "scheduled", Campaign.scheduled_at <= now)
            .order_by(Campaign.scheduled_at, Campaign.id)
        )
        return result.scalars().all()

    async def add_members(self, rows: list[dict[str, Any]]) -> None:
        """Bulk insert of audience rows (``CampaignMember`` columns as dicts)."""
        if rows:
            await self._s.execute(insert(table_of(CampaignMember)), rows)

    async def withdraw_pending(self, campaign_id: int) -> int:
        """Mark the campaign's unsent outbox rows ``cancelled``; sent ones stay sent."""
        keys = select(CampaignMember.outbox_key).where(
            CampaignMember.campaign_id == campaign_id, CampaignMember.outbox_key.is_not(None)
        )
        result = await self._s.execute(
            update(OutboxMessage)
            .where(OutboxMessage.dedupe_key.in_(keys), OutboxMessage.status == "pending")
            .values(status=CANCELLED)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def pending_count(self, campaign_id: int) -> int:
        keys = select(CampaignMember.outbox_key).where(
            CampaignMember.campaign_id == campaign_id, CampaignMember.outbox_key.is_not(None)
        )
        result = await self._s.execute(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.dedupe_key.in_(keys), OutboxMessage.status == "pending")
        )
        return int(result.scalar_one())

    async def sending(self) -> Sequence[Campaign]:
        result = await self._s.execute(select(Campaign).where(Campaign.status == "sending"))
        return result.scalars().all()

    async def audience_counts(self, campaign_id: int) -> dict[tuple[str, str | None], int]:
        """Members per (group, excluded reason) of a started campaign."""
        result = await self._s.execute(
            select(CampaignMember.group, CampaignMember.excluded, func.count())
            .where(CampaignMember.campaign_id == campaign_id)
            .group_by(CampaignMember.group, CampaignMember.excluded)
        )
        return {(group, excluded): int(n) for group, excluded, n in result.all()}
