"""The demo shop's automation history: campaigns with recipients, nothing left to deliver."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.demo_history import add_automation_history
from storage.models import Campaign, CampaignMember, OutboxMessage
from storage.synthetic import generate_shop

NOW = datetime(2026, 3, 3, 7, 30, tzinfo=UTC)


@pytest.mark.e2e
async def test_the_demo_history_has_finished_automation_campaigns_and_no_pending_messages(
    engine: AsyncEngine,
) -> None:
    await generate_shop(engine, members=300, months=3, seed=5, now=NOW)
    totals = await add_automation_history(engine, "sqlite+aiosqlite:///unused.db", now=NOW)
    assert totals["recipients"] > 0
    async with engine.connect() as connection:
        campaigns = (
            await connection.execute(
                select(Campaign.kind, Campaign.status, func.count(CampaignMember.member_id))
                .join(CampaignMember, CampaignMember.campaign_id == Campaign.id)
                .where(CampaignMember.group == "recipient")
                .group_by(Campaign.id, Campaign.kind, Campaign.status)
            )
        ).all()
        statuses = dict(
            (
                await connection.execute(
                    select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
                )
            ).all()
        )
    assert {kind for kind, _, _ in campaigns} == {"automation:birthday", "automation:winback"}
    assert all(status == "sent" and n > 0 for _, status, n in campaigns)
    assert statuses.get("pending", 0) == 0
    assert statuses["sent"] > 0
