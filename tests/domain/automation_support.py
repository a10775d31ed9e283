"""Helpers for the automation tests: running a job day by day on the frozen clock."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.bootstrap import App
from bot.core.clock import FrozenClock
from storage.models import Campaign, CampaignMember, OutboxMessage
from storage.raw_session import session_of

BANGKOK = ZoneInfo("Asia/Bangkok")


def bangkok(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BANGKOK)


async def run_days(
    app: App, clock: FrozenClock, job: Callable[[App], Awaitable[object]], days: int
) -> None:
    """Run ``job`` once a day for ``days`` days, starting at the clock's moment."""
    for _ in range(days):
        await job(app)
        clock.advance(timedelta(days=1))


async def outbox_for(app: App, member_id: int, prefix: str = "cmp:") -> list[OutboxMessage]:
    async with app.uow() as uow:
        result = await session_of(uow).execute(
            select(OutboxMessage)
            .where(
                OutboxMessage.member_id == member_id, OutboxMessage.dedupe_key.like(f"{prefix}%")
            )
            .order_by(OutboxMessage.id)
        )
        return list(result.scalars().all())


async def enrolments(app: App, member_id: int, kind: str) -> list[tuple[str, CampaignMember]]:
    """(period key, audience row) of every automation campaign ``kind`` the member is in."""
    async with app.uow() as uow:
        result = await session_of(uow).execute(
            select(Campaign.period_key, CampaignMember)
            .join(Campaign, Campaign.id == CampaignMember.campaign_id)
            .where(CampaignMember.member_id == member_id, Campaign.kind == kind)
            .order_by(CampaignMember.enrolled_at)
        )
        return [(str(key), row) for key, row in result.all()]


async def set_automations(app: App, value: dict[str, object]) -> None:
    async with app.uow() as uow:
        await uow.settings.put("automations", value, app.clock.now())
        await uow.commit()
