"""A member's history for the console's member page: the campaigns they were in (as a
recipient or in the hold-out) and their inbox thread."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from storage.models import Campaign, CampaignMember, InboxMessage
from storage.raw_session import session_of
from storage.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class CampaignTaken:
    campaign_id: int
    name: str
    kind: str
    started_at: datetime | None
    group: str
    excluded: str | None
    clicked: bool
    claimed: bool


@dataclass(frozen=True, slots=True)
class ThreadLine:
    direction: str
    text: str
    at: datetime


async def campaigns_of(uow: UnitOfWork, member_id: int, limit: int = 20) -> list[CampaignTaken]:
    """The member's campaigns, newest first (the ``(member, campaign)`` index serves it)."""
    rows = await session_of(uow).execute(
        select(Campaign, CampaignMember)
        .join(CampaignMember, CampaignMember.campaign_id == Campaign.id)
        .where(CampaignMember.member_id == member_id)
        .order_by(Campaign.id.desc())
        .limit(limit)
    )
    return [
        CampaignTaken(
            c.id,
            c.name,
            c.kind,
            c.started_at,
            m.group,
            m.excluded,
            m.clicked_at is not None,
            m.claimed_at is not None,
        )
        for c, m in rows
    ]


async def thread_of(uow: UnitOfWork, member_id: int, limit: int = 30) -> list[ThreadLine]:
    """The member's latest inbox messages, both ways, oldest first."""
    rows = await session_of(uow).execute(
        select(InboxMessage.direction, InboxMessage.text, InboxMessage.received_at)
        .where(InboxMessage.member_id == member_id)
        .order_by(InboxMessage.received_at.desc(), InboxMessage.id.desc())
        .limit(limit)
    )
    return [ThreadLine(d, text, at) for d, text, at in reversed(rows.all())]
