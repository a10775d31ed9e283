"""What the shop holds about one member beyond their profile, for their /mydata export (PDPA
s.30): coupons, tags and staff notes, feedback, inbox threads, contact events, campaigns.

Each method returns plain rows (column name → value, dates as ``datetime``), oldest first.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Campaign,
    CampaignMember,
    ContactEvent,
    Coupon,
    Feedback,
    InboxMessage,
    InboxThread,
    MemberNote,
    MemberTag,
)

Row = dict[str, Any]


class SubjectAccess:
    """Read-only queries for a data subject's access request (the /mydata export)."""

    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def coupons(self, member_id: int) -> list[Row]:
        """Every coupon of the member, used, expired and void ones too."""
        found = await self._s.scalars(
            select(Coupon).where(Coupon.member_id == member_id).order_by(Coupon.id)
        )
        return [
            {
                "code": c.code,
                "title_th": c.title_th,
                "title_en": c.title_en,
                "points_spent": c.points_spent,
                "status": c.status,
                "issued_at": c.issued_at,
                "expires_at": c.expires_at,
                "redeemed_at": c.redeemed_at,
            }
            for c in found
        ]

    async def tags_and_notes(self, member_id: int) -> tuple[list[Row], list[Row]]:
        """The tags staff gave the member, and staff's notes about them."""
        tags = await self._s.scalars(
            select(MemberTag).where(MemberTag.member_id == member_id).order_by(MemberTag.tag)
        )
        notes = await self._s.scalars(
            select(MemberNote).where(MemberNote.member_id == member_id).order_by(MemberNote.id)
        )
        return (
            [{"tag": t.tag, "added_at": t.created_at} for t in tags],
            [{"text": n.text, "written_at": n.created_at} for n in notes],
        )

    async def feedback(self, member_id: int) -> list[Row]:
        """The member's visit ratings and comments."""
        found = await self._s.scalars(
            select(Feedback).where(Feedback.member_id == member_id).order_by(Feedback.id)
        )
        return [
            {
                "rating": f.rating,
                "comment": f.comment,
                "asked_at": f.asked_at,
                "answered_at": f.answered_at,
            }
            for f in found
        ]

    async def threads(self, member_id: int, identity_ids: list[int]) -> list[Row]:
        """The member's inbox conversations with the shop, each with its messages both ways."""
        found = await self._s.scalars(
            select(InboxThread)
            .where((InboxThread.member_id == member_id) | InboxThread.identity_id.in_(identity_ids))
            .order_by(InboxThread.id)
        )
        threads = []
        for thread in found:
            messages = await self._s.scalars(
                select(InboxMessage)
                .where(InboxMessage.thread_id == thread.id)
                .order_by(InboxMessage.received_at, InboxMessage.id)
            )
            threads.append(
                {
                    "status": thread.status,
                    "opened_at": thread.opened_at,
                    "closed_at": thread.closed_at,
                    "messages": [
                        {"direction": m.direction, "text": m.text, "at": m.received_at}
                        for m in messages
                    ],
                }
            )
        return threads

    async def contact_events(self, member_id: int) -> list[Row]:
        """Blocks, unblocks, /stop and /resume of the member."""
        found = await self._s.scalars(
            select(ContactEvent)
            .where(ContactEvent.member_id == member_id)
            .order_by(ContactEvent.occurred_at, ContactEvent.id)
        )
        return [{"channel": e.channel, "kind": e.kind, "at": e.occurred_at} for e in found]

    async def campaigns(self, member_id: int) -> list[Row]:
        """The campaigns the member was in, with their group and response."""
        found = await self._s.execute(
            select(CampaignMember, Campaign.name)
            .join(Campaign, Campaign.id == CampaignMember.campaign_id)
            .where(CampaignMember.member_id == member_id)
            .order_by(CampaignMember.campaign_id)
        )
        return [
            {
                "campaign": name,
                "group": cm.group,
                "channel": cm.channel,
                "excluded": cm.excluded,
                "enrolled_at": cm.enrolled_at,
                "clicked_at": cm.clicked_at,
                "claimed_at": cm.claimed_at,
            }
            for cm, name in found.all()
        ]
