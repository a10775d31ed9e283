from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ConversationState


class Conversations:
    """Conversation state per (channel, user); an expired state reads as none."""

    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def get(self, channel: str, user_id: str, now: datetime) -> ConversationState | None:
        state = await self._s.get(ConversationState, (channel, user_id))
        if state is None or state.expires_at <= now:
            return None
        return state

    async def save(
        self,
        channel: str,
        user_id: str,
        flow: str,
        step: str,
        data: dict[str, Any],
        now: datetime,
        expires_at: datetime,
    ) -> None:
        state = await self._s.get(ConversationState, (channel, user_id))
        if state is None:
            state = ConversationState(channel=channel, user_id=user_id)
            self._s.add(state)
        state.flow = flow
        state.step = step
        state.data = dict(data)
        state.updated_at = now
        state.expires_at = expires_at
        await self._s.flush()

    async def clear(self, channel: str, user_id: str) -> None:
        await self._s.execute(
            delete(ConversationState).where(
                ConversationState.channel == channel, ConversationState.user_id == user_id
            )
        )

    async def purge_expired(self, now: datetime) -> int:
        result = await self._s.execute(
            delete(ConversationState).where(ConversationState.expires_at <= now)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
