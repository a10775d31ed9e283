"""The send pace shared by every process: when the next message may go to a bot, to a chat.

One row per key (``telegram``, ``telegram:<chat>``) holds the next moment, in Unix seconds, a
message may go. Claiming a slot locks the bot's row and the chat's (in key order, so two
claimers never deadlock; SQLite's ``BEGIN IMMEDIATE`` serialises claims anyway): when the chat
is not free yet nothing changes and the caller learns when it will be; otherwise the slot is
the later of now and the bot's next moment, and both rows move one gap past it. Every process
claiming its slots here keeps the sum of their sends within one budget (a generic cell rate
algorithm, with no burst).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import SendPace
from storage.upsert import insert_once


@dataclass(frozen=True, slots=True)
class Slot:
    """``granted``: the message may go at ``at``; else the chat is free at ``at``, try again."""

    granted: bool
    at: float


class SendPaces:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def claim(
        self, sender: str, chat: str | None, now: float, sender_gap: float, chat_gap: float
    ) -> Slot:
        """Claim the next slot of ``sender`` (and of ``chat``, when given); see module doc."""
        keys = sorted(key for key in (sender, chat) if key is not None)
        for key in keys:
            await insert_once(self._s, SendPace, {"key": key, "next_at": 0.0}, ["key"])
        rows = await self._s.execute(
            select(SendPace.key, SendPace.next_at)
            .where(SendPace.key.in_(keys))
            .order_by(SendPace.key)
            .with_for_update()  # the SQLite dialect leaves this out
        )
        next_at = {key: float(at) for key, at in rows.all()}
        if chat is not None and next_at[chat] > now:
            return Slot(False, next_at[chat])
        slot = max(now, next_at[sender])
        await self._move(sender, slot + sender_gap)
        if chat is not None:
            await self._move(chat, slot + chat_gap)
        return Slot(True, slot)

    async def hold(self, sender: str, until: float) -> None:
        """No slot of ``sender`` before ``until`` (the platform said ``retry_after``)."""
        await insert_once(self._s, SendPace, {"key": sender, "next_at": until}, ["key"])
        await self._s.execute(
            update(SendPace)
            .where(SendPace.key == sender, SendPace.next_at < until)
            .values(next_at=until)
        )

    async def forget_before(self, moment: float) -> None:
        """Drop the rows idle since ``moment`` (a missing row is a free bot or chat)."""
        await self._s.execute(delete(SendPace).where(SendPace.next_at < moment))

    async def _move(self, key: str, to: float) -> None:
        await self._s.execute(update(SendPace).where(SendPace.key == key).values(next_at=to))
