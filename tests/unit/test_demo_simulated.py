"""The demo's last days come from the shop simulator: a campaign the product sent, measured
and left nothing pending."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Settings
from bot.demo_history import (
    DEMO_SEGMENT_NAME,
    SIMULATED_DAYS,
    add_simulated_days,
    simulation_start,
)
from shop.campaigns.stats import compute_stats
from storage.db import session_factory
from storage.models import Branch, OutboxMessage, Sale, Segment
from storage.raw_session import session_of
from storage.synthetic import generate_shop
from storage.synthetic.loyalty import add_counter
from storage.synthetic.names import BRANCHES
from storage.uow import UnitOfWorkFactory

NOW = datetime(2026, 3, 3, 7, 30, tzinfo=UTC)
URL = "sqlite+aiosqlite:///unused.db"


@pytest.mark.e2e
async def test_the_demo_campaign_was_sent_and_measured_by_the_product(
    engine: AsyncEngine,
) -> None:
    start = simulation_start(NOW, Settings(CHATCRM_DATABASE_URL=URL, _env_file=None))
    await generate_shop(engine, members=400, months=6, seed=5, now=start)
    await add_counter(engine, now=start, seed=5)
    campaign_id = await add_simulated_days(engine, URL, start=start, seed=5)
    uow = UnitOfWorkFactory(session_factory(engine))
    async with uow() as session:
        stats = await compute_stats(session, campaign_id, NOW)
        pending = await session_of(session).scalar(
            select(func.count()).where(OutboxMessage.status == "pending")
        )
    assert stats.started_at == start
    assert NOW - start >= timedelta(days=SIMULATED_DAYS)
    assert stats.recipients.sent > 0
    assert stats.recipients.visits > 0
    assert stats.holdout.measured > 0
    assert pending == 0
    async with uow() as session:
        recent = await session_of(session).execute(
            select(Branch.code)
            .join(Sale, Sale.branch_id == Branch.id)
            .where(Sale.occurred_at >= start)
            .distinct()
        )
        segments = await session_of(session).execute(select(Segment.name))
    # every branch's cashier rang sales up in the simulated days, not Asoke's alone
    assert set(recent.scalars()) == {code for code, _, _ in BRANCHES}
    assert list(segments.scalars()) == [DEMO_SEGMENT_NAME]  # named for what it holds
