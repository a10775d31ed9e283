from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Final

from sqlalchemy import Table, bindparam, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.util import identity_key

from storage import direct
from storage.core_writes import CoreWrites
from storage.expiry import BATCH, delete_some
from storage.models import ConversationState, table_of

_TABLE: Final = table_of(ConversationState)
_SET: Final = ("flow", "step", "data", "expires_at", "updated_at")


def _upsert(
    insert: Callable[[Table], postgresql.Insert | sqlite.Insert],
) -> postgresql.Insert | sqlite.Insert:
    statement = insert(_TABLE)
    return statement.on_conflict_do_update(
        index_elements=[_TABLE.c.channel, _TABLE.c.user_id],
        set_={name: statement.excluded[name] for name in _SET},
    )


#: built once per dialect: every step of a conversation (a sign-up, a staff flow) saves its state
SAVE: Final = {"postgresql": _upsert(postgresql.insert), "sqlite": _upsert(sqlite.insert)}
_STATES: Final = table_of(ConversationState)
#: built once, of the table: the last step of every conversation clears its state (the session's
#: copy is let go of by hand, see :meth:`Conversations.clear`)
_CLEAR: Final = delete(_STATES).where(
    _STATES.c.channel == bindparam("channel"), _STATES.c.user_id == bindparam("user_id")
)


class Conversations:
    """Conversation state per (channel, user); an expired state reads as none."""

    def __init__(self, session: AsyncSession, writes: CoreWrites | None = None) -> None:
        self._s = session
        self._writes = writes or CoreWrites(session)

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
        """One Core upsert (no session flush); a state the session holds shows the new values.

        Nothing reads what it returns: on SQLite it goes with the next statement (the commit,
        mostly), as the arrival's ``last_seen_at`` does (``storage/direct.py``)."""
        values: dict[str, Any] = {"flow": flow, "step": step, "data": dict(data)}
        values |= {"expires_at": expires_at, "updated_at": now}
        params = {"channel": channel, "user_id": user_id, **values}
        await direct.write(self._s, SAVE[self._s.get_bind().dialect.name], params)
        held = self._s.sync_session.identity_map.get(
            identity_key(ConversationState, (channel, user_id))
        )
        if held is not None:
            self._writes.wrote(held, values)

    async def clear(self, channel: str, user_id: str) -> None:
        """Delete the state; a copy the session holds goes with it, so that :meth:`get` in the
        same transaction reads none (a DELETE with bound values would leave it there)."""
        params = {"channel": channel, "user_id": user_id}
        await direct.write(self._s, _CLEAR, params)  # SQLite: with the next statement
        held = self._s.sync_session.identity_map.get(
            identity_key(ConversationState, (channel, user_id))
        )
        if held is not None:
            self._s.expunge(held)

    async def purge_expired(self, now: datetime, limit: int = BATCH) -> int:
        """Delete at most ``limit`` states expired by ``now``; how many."""
        expired = ConversationState.expires_at <= now
        return await delete_some(self._s, ConversationState, expired, limit)
