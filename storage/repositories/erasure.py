"""Erasure of a member's personal data (PDPA s.33), in the caller's unit of work.

Personal data lives on ``members`` and ``channel_identities`` (plus free text in ``inbox`` and
names in queued messages). The member row stays, emptied, so sales and points keep an
anonymous owner and the shop's totals do not change.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from sqlalchemy import String, cast, delete, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    ChannelIdentity,
    ConversationState,
    Feedback,
    InboxMessage,
    InboxThread,
    Member,
    MemberNote,
    MemberTag,
    OutboxMessage,
    PointsEntry,
)

ERASED: Final = "erased"
EMPTY_PAYLOAD: Final[dict[str, Any]] = {"v": 1, "replies": []}


class Erasure:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def erase_member(self, member: Member, now: datetime) -> None:
        """Clear every personal field, delete the member's chat identities, their inbox
        messages, conversation states, not-yet-sent messages, and staff's notes and tags about
        them; set ``erased_at``.

        A later event from the same chat account finds no identity and starts as a stranger.
        """
        result = await self._s.execute(
            select(ChannelIdentity).where(ChannelIdentity.member_id == member.id)
        )
        identities = result.scalars().all()
        await self._forget_inbox(member, [identity.id for identity in identities])
        await self._forget_messages(member)
        # staff's notes and tags describe the person: they go too (one-time codes are useless
        # once ``erased_at`` is set, and hold no personal data)
        await self._s.execute(delete(MemberNote).where(MemberNote.member_id == member.id))
        await self._s.execute(delete(MemberTag).where(MemberTag.member_id == member.id))
        for identity in identities:
            await self._s.execute(
                delete(ConversationState).where(
                    ConversationState.channel == identity.channel,
                    ConversationState.user_id == identity.user_id,
                )
            )
            await self._s.delete(identity)
        member.name = None
        member.phone = None
        member.birthday = None
        member.gender = None
        member.home_branch_id = None
        member.referred_by_code = None
        member.signup_source = None
        member.marketing_opt_in = False
        member.erased_at = now
        await self._s.flush()

    async def _forget_inbox(self, member: Member, identity_ids: list[int]) -> None:
        """The member's inbox messages and threads go; their visit comments are emptied."""
        await self._s.execute(
            delete(InboxMessage).where(
                or_(InboxMessage.member_id == member.id, InboxMessage.identity_id.in_(identity_ids))
            )
        )
        await self._s.execute(  # a visit comment is free text: personal (ratings stay)
            update(Feedback).where(Feedback.member_id == member.id).values(comment=None)
        )
        await self._s.execute(  # the threads those messages were in (the inbox, issue 5)
            delete(InboxThread).where(
                or_(InboxThread.member_id == member.id, InboxThread.identity_id.in_(identity_ids))
            )
        )

    async def _forget_messages(self, member: Member) -> None:
        """Unsent messages to the member go; sent ones lose their chat id and text; an
        imported opening balance loses the phone in its key."""
        await self._s.execute(
            delete(OutboxMessage).where(
                OutboxMessage.member_id == member.id, OutboxMessage.status == "pending"
            )
        )
        # messages already sent stay counted in campaign stats, but without the chat id and the
        # personalised text (the member's name) they carried
        await self._s.execute(
            update(OutboxMessage)
            .where(OutboxMessage.member_id == member.id)
            .values(user_id=ERASED, payload=EMPTY_PAYLOAD)
        )
        # an imported opening balance is keyed by the phone it came with ("import:<phone>"):
        # the entry stays (the points are the shop's history), the phone in its key goes
        await self._s.execute(
            update(PointsEntry)
            .where(
                PointsEntry.member_id == member.id,
                PointsEntry.idempotency_key.like("import:+%"),
            )
            .values(idempotency_key=literal("import:erased:") + cast(PointsEntry.id, String))
        )
