"""Campaigns and their audience snapshots. Never commits: the unit of work does."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any, Final

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.keys import CampaignMessageKey
from storage.bulk import bulk_insert
from storage.models import AuditEntry, Campaign, CampaignMember, OutboxMessage, table_of
from storage.repositories.outbox_reads import is_pending
from storage.upsert import insert_once

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

    async def lock(self, campaign_id: int) -> Campaign | None:
        """The campaign reloaded with its row locked (``FOR UPDATE``) to the commit: it waits
        for a launch, cancel or status move in flight on the same campaign to commit first."""
        return await self._s.get(
            Campaign, campaign_id, populate_existing=True, with_for_update=True
        )

    async def recent(
        self, limit: int = 20, *, offset: int = 0, before: int | None = None
    ) -> Sequence[Campaign]:
        """The newest ``limit`` campaigns (newest first), after skipping ``offset`` of them,
        of those whose id is below ``before`` if given."""
        query = select(Campaign).order_by(Campaign.id.desc())
        if before is not None:
            query = query.where(Campaign.id < before)
        result = await self._s.execute(query.offset(offset).limit(limit))
        return result.scalars().all()

    async def count(self) -> int:
        """How many campaigns there are (the owners' and the automations')."""
        return int(await self._s.scalar(select(func.count()).select_from(Campaign)) or 0)

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

    async def withdraw_pending(self, campaign_id: int) -> int:
        """Mark the campaign's unsent outbox rows ``cancelled``; sent ones stay sent."""
        keys = select(CampaignMember.outbox_key).where(
            CampaignMember.campaign_id == campaign_id, CampaignMember.outbox_key.is_not(None)
        )
        result = await self._s.execute(
            update(OutboxMessage)
            .where(OutboxMessage.dedupe_key.in_(keys), is_pending())
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
            .where(OutboxMessage.dedupe_key.in_(keys), is_pending())
        )
        return int(result.scalar_one())

    async def offers(self, campaign_ids: Collection[int]) -> dict[int, dict[str, Any] | None]:
        """The stored offer of each of ``campaign_ids`` (None: none), in one statement."""
        if not campaign_ids:
            return {}
        query = select(Campaign.id, Campaign.offer).where(Campaign.id.in_(sorted(campaign_ids)))
        return {int(row_id): offer for row_id, offer in (await self._s.execute(query)).all()}

    async def sending(self) -> Sequence[Campaign]:
        result = await self._s.execute(select(Campaign).where(Campaign.status == "sending"))
        return result.scalars().all()

    async def add_audience(self, rows: Sequence[dict[str, Any]]) -> None:
        """A launch's audience rows, straight to the driver (COPY on PostgreSQL): the snapshot
        is new, so no row can be there already."""
        await bulk_insert(await self._s.connection(), table_of(CampaignMember), rows)

    async def add_audience_once(self, rows: Sequence[dict[str, Any]]) -> None:
        """Audience rows, ``ON CONFLICT DO NOTHING``: a concurrent run adding the same member
        leaves the first row in place instead of aborting the transaction."""
        if not rows:
            return
        dialect = self._s.get_bind().dialect.name
        insert_ = pg_insert if dialect == "postgresql" else sqlite_insert
        statement = insert_(table_of(CampaignMember)).on_conflict_do_nothing(
            index_elements=["campaign_id", "member_id"]
        )
        await self._s.execute(statement, list(rows))

    async def group_of(self, campaign_id: int, member_id: int) -> str | None:
        """``recipient`` / ``holdout`` of a member in the campaign's audience, else None."""
        return await self._s.scalar(
            select(CampaignMember.group).where(
                CampaignMember.campaign_id == campaign_id, CampaignMember.member_id == member_id
            )
        )

    async def open_period(self, values: dict[str, Any]) -> Campaign:
        """The campaign of ``values["kind"]`` for ``values["period_key"]``, inserted once on
        the unique (kind, period_key) index (``values`` are its columns when it is new)."""
        await insert_once(self._s, Campaign, values, ("kind", "period_key"))
        campaign = await self._s.scalar(
            select(Campaign).where(
                Campaign.kind == values["kind"], Campaign.period_key == values["period_key"]
            )
        )
        assert campaign is not None
        return campaign

    async def move_status(self, campaign_id: int, before: str, after: str) -> bool:
        """Set the status ``after`` if it is ``before``; True when it was."""
        changed = await self._s.execute(
            update(Campaign)
            .where(Campaign.id == campaign_id, Campaign.status == before)
            .values(status=after)
            .execution_options(synchronize_session=False)
        )
        return int(changed.rowcount or 0) > 0  # type: ignore[attr-defined]

    async def resumed_since(self, since: datetime) -> bool:
        """Whether an owner resumed a campaign (``campaign.resumed`` in the audit log, written
        by any process) at or after ``since``: the dispatcher's quota rest ends then."""
        found = await self._s.execute(
            select(AuditEntry.id)
            .where(AuditEntry.action == "campaign.resumed", AuditEntry.created_at >= since)
            .limit(1)
        )
        return found.first() is not None

    async def park_pending(self, campaign_id: int, until: datetime) -> int:
        """Hold the campaign's pending messages until ``until``; returns how many."""
        prefix = CampaignMessageKey.campaign_prefix(campaign_id)
        result = await self._s.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.dedupe_key.startswith(prefix, autoescape=True),
                is_pending(),
            )
            .values(not_before=until)
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
