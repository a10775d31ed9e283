"""The send pace shared by every process: when the next message may go to a bot, to a chat.

One row per key (``telegram``, ``telegram:<chat>``) holds the next moment, in Unix seconds, a
message may go. A claim takes slots for several messages at once (the messages waiting in one
process when the claim starts) in one transaction: it locks the bot's row and the chats' (in
key order, so two claimers never deadlock; SQLite's ``BEGIN IMMEDIATE`` serialises claims
anyway); a message whose chat is not free yet gets nothing and learns when the chat will be;
every other message gets the later of now and the bot's next moment, and the bot's row and its
chat's move one gap past it. Every process claiming its slots here keeps the sum of their sends
within one budget (a generic cell rate algorithm, with no burst).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import ARRAY, Float, any_, bindparam, delete, exists, func, literal, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql import Select

from storage.models import SendPace, table_of
from storage.upsert import insert_many_once, insert_once

_BOT: Final = aliased(SendPace)
_TABLE: Final = table_of(SendPace)
_KEYS: Final = ARRAY(SendPace.key.type)


def _locked_where(keys: Any) -> Select[str, float]:
    return (
        select(SendPace.key, SendPace.next_at)
        .where(keys, exists().where(_BOT.key == bindparam("pace_sender")))
        .order_by(SendPace.key)
        .with_for_update(of=SendPace)  # the SQLite dialect leaves this out
    )


#: built once (every reply's claim runs them; also ``_MAKE`` and ``_MOVE``), by dialect.
#: PostgreSQL: the keys as one array parameter, so that the text is the same whatever their
#: number (an IN list's text has one parameter per key, and asyncpg prepares each new length
#: again, one more trip); SQLite's driver binds no arrays
_LOCKED: Final = {
    "postgresql": _locked_where(SendPace.key == any_(bindparam("pace_keys", type_=_KEYS))),
    "sqlite": _locked_where(SendPace.key.in_(bindparam("pace_keys", expanding=True))),
}
#: PostgreSQL: the rows a claim lacks made from the same array (see ``_LOCKED``): a VALUES
#: list would be a text of its own per number of rows, compiled and prepared again
_MAKE: Final = (
    pg_insert(_TABLE)
    .from_select(
        ["key", "next_at"],
        select(
            func.unnest(bindparam("pace_keys", type_=_KEYS), type_=SendPace.key.type),
            literal(0.0, Float),
        ),
    )
    .on_conflict_do_nothing(index_elements=["key"])
)
_MOVE: Final = (
    update(_TABLE).where(_TABLE.c.key == bindparam("pace_key")).values(next_at=bindparam("pace_at"))
)


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
        """The slot of one message; see :meth:`claim_many`."""
        return (await self.claim_many(sender, [chat], now, sender_gap, chat_gap))[0]

    async def claim_many(
        self,
        sender: str,
        chats: Sequence[str | None],
        now: float,
        sender_gap: float,
        chat_gap: float,
    ) -> list[Slot]:
        """One slot of ``sender`` per message, in order; a message to a chat (its key, or
        None for no per-chat budget) gets one only when the chat is free. See module doc."""
        keys = sorted({sender, *(chat for chat in chats if chat is not None)})
        next_at = await self._locked(sender, keys)
        if len(next_at) < len(keys):
            # the rows are made once (a chat's again after it was idle for long): the usual
            # claim finds them all and makes no INSERT
            await self._make(keys)
            next_at = await self._locked(sender, keys)
        moved: dict[str, float] = {}
        slots: list[Slot] = []
        for chat in chats:
            if chat is not None and next_at[chat] > now:
                slots.append(Slot(False, next_at[chat]))
                continue
            slot = max(now, next_at[sender])
            moved[sender] = next_at[sender] = slot + sender_gap
            if chat is not None:
                moved[chat] = next_at[chat] = slot + chat_gap
            slots.append(Slot(True, slot))
        if moved:
            await self._move(moved)
        return slots

    async def _locked(self, sender: str, keys: list[str]) -> dict[str, float]:
        """The next moments of the rows of ``keys`` that exist, locked in key order — none
        when the bot's own row does not exist yet.

        The bot's key sorts first (a chat's is ``<bot>:<chat>``), so claims queue on the bot's
        row before they lock or make any chat's; a claim that finds no bot row locks nothing
        and makes the rows in key order first, as every claim once did. The bot's row is never
        dropped (:meth:`forget_before`), so it cannot vanish between the two.
        """
        statement = _LOCKED[self._dialect()]
        rows = await self._s.execute(statement, {"pace_keys": keys, "pace_sender": sender})
        return {key: float(at) for key, at in rows.all()}

    async def _make(self, keys: list[str]) -> None:
        """The rows of ``keys`` that do not exist, at 0 (free); a concurrent claim's stay."""
        if self._dialect() == "postgresql":
            await self._s.execute(_MAKE, {"pace_keys": keys})
            return
        rows = [{"key": key, "next_at": 0.0} for key in keys]
        await insert_many_once(self._s, SendPace, rows, ["key"])

    def _dialect(self) -> str:
        return self._s.get_bind().dialect.name

    async def hold(self, sender: str, until: float) -> None:
        """No slot of ``sender`` before ``until`` (the platform said ``retry_after``)."""
        await insert_once(self._s, SendPace, {"key": sender, "next_at": until}, ["key"])
        await self._s.execute(
            update(SendPace)
            .where(SendPace.key == sender, SendPace.next_at < until)
            .values(next_at=until)
        )

    async def forget_before(self, moment: float) -> None:
        """Drop the chats' rows idle since ``moment`` (a missing row is a free chat); a bot's
        row stays (one per channel, see :meth:`_locked`)."""
        await self._s.execute(
            delete(SendPace).where(SendPace.next_at < moment, SendPace.key.contains(":"))
        )

    async def _move(self, moved: dict[str, float]) -> None:
        await self._s.execute(
            _MOVE, [{"pace_key": key, "pace_at": at} for key, at in moved.items()]
        )
