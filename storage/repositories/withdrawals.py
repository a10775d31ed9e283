"""Withdrawing outbox rows before they are sent. Never commits: the unit of work does.

A withdrawn row is ``cancelled``: the dispatcher only ever sends ``pending`` rows, every mark of
an outcome is conditional on the row still being pending, and campaign stats count it as
withdrawn. Each method is one statement however many rows it concerns; each returns the
``dedupe_key`` of every row it withdrew, so the shop can finish the campaigns they belonged to.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Final

from sqlalchemy import ColumnElement, and_, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.keys import staff_messages_patterns
from storage.bulk.sql import commonly_true, is_among
from storage.models import (
    Campaign,
    CampaignMember,
    ChannelIdentity,
    Member,
    OutboxMessage,
    Sale,
    table_of,
)

PENDING: Final = "pending"
CANCELLED: Final = "cancelled"
#: campaign kinds whose message is about the member's absence: a visit ends their point (the
#: win-back automation's kind, ``shop.automations.kind_of("winback")``)
UNTIL_NEXT_SALE: Final = ("automation:winback",)


def unwanted_promotion() -> ColumnElement[bool]:
    """True for an outbox row that is a promotion its member may no longer get, checked
    again when the dispatcher takes the row: the member withdrew marketing consent (``/stop``)
    or was erased, or the chat account it goes to is unreachable (blocked the bot), or it is a
    message about their absence (:data:`UNTIL_NEXT_SALE`) and they bought since it was queued
    (a win-back held by the quiet hours overnight, the member at the counter in the morning).
    Rows without a member and transactional rows are never unwanted."""
    box = OutboxMessage
    member_gone = exists().where(
        Member.id == box.member_id,
        or_(Member.marketing_opt_in.is_(False), Member.erased_at.is_not(None)),
    )
    blocked = exists().where(
        ChannelIdentity.channel == box.channel,
        ChannelIdentity.user_id == box.user_id,
        ChannelIdentity.reachable.is_(False),
    )
    return and_(box.promotional.is_(True), or_(member_gone, blocked, _came_back()))


def _came_back() -> ColumnElement[bool]:
    """The row is a message about the member's absence and they bought since it was queued:
    the sale is looked up first (the member's sales index), the campaign only then."""
    box = OutboxMessage
    bought = exists().where(
        Sale.member_id == box.member_id,
        Sale.occurred_at > box.created_at,
        Sale.voided_at.is_(None),
    )
    about_absence = exists().where(
        CampaignMember.member_id == box.member_id,
        CampaignMember.outbox_key == box.dedupe_key,
        Campaign.id == CampaignMember.campaign_id,
        Campaign.kind.in_(UNTIL_NEXT_SALE),
    )
    return and_(bought, about_absence)


class Withdrawals:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    def _among(self, message_ids: Collection[int]) -> ColumnElement[bool]:
        """``id IN message_ids`` bound as one value (a drain pass checks thousands at once)."""
        return is_among(self._s.get_bind(), table_of(OutboxMessage).c.id, message_ids)

    async def rows(self, message_ids: Collection[int]) -> list[str]:
        """Withdraw the still-pending rows among ``message_ids``."""
        if not message_ids:
            return []
        return await self._withdraw(self._among(message_ids), by_ids=True)

    async def unwanted(self, message_ids: Collection[int]) -> list[str]:
        """Withdraw the pending rows among ``message_ids`` that are promotions their member may
        no longer get (:func:`unwanted_promotion`)."""
        if not message_ids:
            return []
        return await self._withdraw(self._among(message_ids), unwanted_promotion(), by_ids=True)

    async def member_promotions(self, member_id: int) -> list[str]:
        """Withdraw every pending promotion to ``member_id``, claimed ones included;
        transactional rows (receipts, notices) stay."""
        box = OutboxMessage
        return await self._withdraw(box.member_id == member_id, box.promotional.is_(True))

    async def staff_messages(self, staff_id: int) -> list[str]:
        """Withdraw every pending message to staff member ``staff_id`` (keys
        :func:`bot.core.keys.staff_message_key` and :func:`bot.core.keys.digest_key` wrote),
        claimed ones included."""
        key = OutboxMessage.dedupe_key
        return await self._withdraw(or_(*(key.like(p) for p in staff_messages_patterns(staff_id))))

    async def pending_among(self, message_ids: Collection[int]) -> set[int]:
        """The ids among ``message_ids`` whose rows are still pending."""
        if not message_ids:
            return set()
        box = OutboxMessage
        pending = commonly_true(self._s.get_bind(), box.status == PENDING)
        query = select(box.id).where(self._among(message_ids), pending)
        return {int(row_id) for row_id in (await self._s.execute(query)).scalars()}

    async def _withdraw(self, *where: ColumnElement[bool], by_ids: bool = False) -> list[str]:
        box = OutboxMessage
        pending = box.status == PENDING
        if by_ids:  # look the ids up rather than walk every pending row
            pending = commonly_true(self._s.get_bind(), pending)
        result = await self._s.execute(
            update(box)
            .where(pending, *where)
            .values(status=CANCELLED)
            .returning(box.dedupe_key)
            .execution_options(synchronize_session=False)
        )
        return [str(key) for key in result.scalars()]
