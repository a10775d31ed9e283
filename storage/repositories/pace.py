"""The send pace shared by every process: when the next message may go to a bot, to a chat.

One row per key (``telegram``, ``telegram:<chat>``) holds the next moment, in Unix seconds, a
message may go. A claim takes slots for several messages at once (the messages waiting in one
process when the claim starts) in one transaction: it locks the bot's row and the chats' (in
key order, so two claimers never deadlock; SQLite's ``BEGIN IMMEDIATE`` serialises claims
anyway); a message whose chat is not free yet gets nothing and learns when the chat will be;
every other message gets the later of now and the bot's next moment, and the bot's row and its
chat's move one gap past it. Every process claiming its slots here keeps the sum of their sends
within one budget (a generic cell rate algorithm, with no burst).

On PostgreSQL the claim is one statement (``_CLAIM``): it locks the rows, takes the slots in the
same steps as :func:`grant` (SQLite's claim runs that function on the rows it locked) and moves
the rows, so a claim needs no transaction around it, nor a session (:class:`BareClaims`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import (
    Boolean,
    Float,
    bindparam,
    delete,
    exists,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql import Select

from storage.along import positional
from storage.models import SendPace, table_of
from storage.upsert import insert_many_once, insert_once

_BOT: Final = aliased(SendPace)
_TABLE: Final = table_of(SendPace)


def _locked_where(keys: Any) -> Select[str, float]:
    return (
        select(SendPace.key, SendPace.next_at)
        .where(keys, exists().where(_BOT.key == bindparam("pace_sender")))
        .order_by(SendPace.key)
        .with_for_update(of=SendPace)  # the SQLite dialect leaves this out
    )


#: built once (every claim on SQLite runs it; also ``_MOVE``)
_LOCKED: Final = _locked_where(SendPace.key.in_(bindparam("pace_keys", expanding=True)))
#: PostgreSQL: a whole claim in one statement, its text the same whatever the number of keys
#: and messages (the keys and the messages' chats go as arrays: asyncpg prepares a text once).
#: ``locked``: the rows of the keys, locked in key order, none when the bot's row does not
#: exist yet (as :meth:`SendPaces._locked` says); ``start``: their keys and next moments as
#: two arrays, no row unless every key has its row; ``made``: else the missing rows, free, in
#: key order (a claim that finds its rows inserts none), and the claim answers nothing: the
#: caller claims again, and its next statement sees them; ``steps``: :func:`grant`'s loop,
#: one message per step, carrying every row's next moment along (an array of doubles: each
#: step computes exactly what the Python does); ``moved``: the rows whose next moment
#: changed, written. A statement holds its row locks until it ends (or its transaction does).
_CLAIM: Final = text(
    """
WITH RECURSIVE locked AS (
    SELECT key, next_at FROM send_pace
    WHERE key = ANY(CAST(:pace_keys AS VARCHAR[]))
        AND EXISTS (SELECT FROM send_pace AS bot WHERE bot.key = CAST(:pace_sender AS VARCHAR))
    ORDER BY key
    FOR UPDATE
),
start AS (
    SELECT array_agg(key ORDER BY key) AS keys, array_agg(next_at ORDER BY key) AS ats
    FROM locked
    HAVING count(*) = cardinality(CAST(:pace_keys AS VARCHAR[]))
),
made AS (
    INSERT INTO send_pace (key, next_at)
    SELECT key, 0.0 FROM unnest(CAST(:pace_keys AS VARCHAR[])) AS k (key)
    WHERE NOT EXISTS (SELECT FROM start)
    ORDER BY key
    ON CONFLICT (key) DO NOTHING
),
asks AS (
    SELECT chat, ord FROM unnest(CAST(:pace_chats AS VARCHAR[])) WITH ORDINALITY AS a (chat, ord)
),
steps (ord, keys, ats, granted, at) AS (
    SELECT CAST(0 AS BIGINT), keys, ats, CAST(NULL AS BOOLEAN), CAST(NULL AS FLOAT8) FROM start
    UNION ALL
    SELECT a.ord, p.keys,
        CASE WHEN x.busy THEN p.ats ELSE (
            SELECT array_agg(
                CASE WHEN u.i = x.c THEN x.slot + CAST(:pace_chat_gap AS FLOAT8)
                    WHEN u.i = x.s THEN x.slot + CAST(:pace_sender_gap AS FLOAT8)
                    ELSE u.at END
                ORDER BY u.i)
            FROM unnest(p.ats) WITH ORDINALITY AS u (at, i)) END,
        NOT x.busy,
        CASE WHEN x.busy THEN p.ats[x.c] ELSE x.slot END
    FROM steps AS p
    JOIN asks AS a ON a.ord = p.ord + 1
    CROSS JOIN LATERAL (
        SELECT pos.s, pos.c,
            pos.c IS NOT NULL AND p.ats[pos.c] > CAST(:pace_now AS FLOAT8) AS busy,
            greatest(CAST(:pace_now AS FLOAT8), p.ats[pos.s]) AS slot
        FROM (
            SELECT array_position(p.keys, CAST(:pace_sender AS VARCHAR)) AS s,
                array_position(p.keys, a.chat) AS c
        ) AS pos
    ) AS x
),
final AS (SELECT keys, ats FROM steps ORDER BY ord DESC LIMIT 1),
moved AS (
    UPDATE send_pace SET next_at = m.at
    FROM (
        SELECT u.key, u.at FROM final CROSS JOIN unnest(final.keys, final.ats) AS u (key, at)
    ) AS m,
        locked AS l
    WHERE send_pace.key = m.key AND l.key = m.key AND l.next_at <> m.at
)
SELECT granted, at FROM steps WHERE ord > 0 ORDER BY ord
"""
).columns(granted=Boolean, at=Float)
#: a claim that found a row missing made the rows and claims again; another process's
#: :meth:`SendPaces.forget_before` may drop a chat's row made in between, at most this often
CLAIM_TRIES: Final = 5
_MOVE: Final = (
    update(_TABLE).where(_TABLE.c.key == bindparam("pace_key")).values(next_at=bindparam("pace_at"))
)


@dataclass(frozen=True, slots=True)
class Slot:
    """``granted``: the message may go at ``at``; else the chat is free at ``at``, try again."""

    granted: bool
    at: float


def grant(
    next_at: dict[str, float],
    sender: str,
    chats: Sequence[str | None],
    now: float,
    sender_gap: float,
    chat_gap: float,
) -> tuple[list[Slot], dict[str, float]]:
    """The slots of one claim (see the module doc) from the next moments of its rows, every
    key's; and the rows' new next moments, by key. PostgreSQL takes the same steps in SQL
    (``_CLAIM``); ``tests/storage/test_send_pace_parity.py`` holds the two together."""
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
    return slots, moved


def _keys(sender: str, chats: Sequence[str | None]) -> list[str]:
    return sorted({sender, *(chat for chat in chats if chat is not None)})


def _values(
    sender: str,
    keys: list[str],
    chats: Sequence[str | None],
    now: float,
    sender_gap: float,
    chat_gap: float,
) -> dict[str, Any]:
    """``_CLAIM``'s parameters."""
    return {
        "pace_keys": keys,
        "pace_sender": sender,
        "pace_chats": list(chats),
        "pace_now": now,
        "pace_sender_gap": sender_gap,
        "pace_chat_gap": chat_gap,
    }


async def _claim_at_once(run: Callable[[], Awaitable[Sequence[Any]]], sender: str) -> list[Slot]:
    """PostgreSQL: the claim as ``_CLAIM`` (``run`` executes it, with its values, and gives its
    rows); when a row was missing it made the rows and answered nothing, and the claim runs
    again."""
    for _ in range(CLAIM_TRIES):
        rows = await run()
        if rows:
            return [Slot(bool(row[0]), float(row[1])) for row in rows]
    raise RuntimeError(f"the send pace rows of {sender!r} vanish as they are made")


class BareClaims:
    """PostgreSQL's claims (:meth:`SendPaces.claim_many`, the same statement and answers) on a
    pooled connection's driver, with no session and no SQLAlchemy execution: ``_CLAIM`` is
    whole by itself, and a unit of work around it (its session, its transaction's bookkeeping,
    every repository built), the pool's check-out and the statement's execution through
    SQLAlchemy cost several times what asyncpg's own execution of the prepared text costs.

    Claims made inside :meth:`holding` share one connection, checked out once (the claims of
    one process come one after the other while messages wait); elsewhere a claim checks one out
    for itself. Outside a transaction each statement commits as it ends. A failure is the
    driver's error; the connection is then dropped from the pool rather than given back."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._held: AsyncConnection | None = None

    @asynccontextmanager
    async def holding(self) -> AsyncIterator[None]:
        async with self._engine.connect() as connection:
            self._held = connection
            try:
                yield
            finally:
                self._held = None

    async def claim_many(
        self,
        sender: str,
        chats: Sequence[str | None],
        now: float,
        sender_gap: float,
        chat_gap: float,
    ) -> list[Slot]:
        if not chats:
            return []
        values = _values(sender, _keys(sender, chats), chats, now, sender_gap, chat_gap)
        if self._held is not None:
            return await self._claim_on(self._held, sender, values)
        async with self._engine.connect() as connection:
            return await self._claim_on(connection, sender, values)

    async def _claim_on(
        self, connection: AsyncConnection, sender: str, values: dict[str, Any]
    ) -> list[Slot]:
        sql, parameters = positional(_CLAIM, connection.dialect, values)

        async def fetch() -> Sequence[Any]:
            try:
                driver: Any = (await connection.get_raw_connection()).driver_connection
                # asyncpg prepares the text once per connection
                rows: Sequence[Any] = await driver.fetch(sql, *parameters)
            except Exception as error:
                if connection is self._held:
                    self._held = None  # the claims after it check out another
                await connection.invalidate(error)
                raise
            return rows

        return await _claim_at_once(fetch, sender)


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
        if not chats:
            return []
        keys = _keys(sender, chats)
        if self._dialect() == "postgresql":
            values = _values(sender, keys, chats, now, sender_gap, chat_gap)

            async def run() -> Sequence[Any]:
                return (await self._s.execute(_CLAIM, values)).all()

            return await _claim_at_once(run, sender)
        next_at = await self._locked(sender, keys)
        if len(next_at) < len(keys):
            # the rows are made once (a chat's again after it was idle for long): the usual
            # claim finds them all and makes no INSERT
            await self._make(keys)
            next_at = await self._locked(sender, keys)
        slots, moved = grant(next_at, sender, chats, now, sender_gap, chat_gap)
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
        rows = await self._s.execute(_LOCKED, {"pace_keys": keys, "pace_sender": sender})
        return {key: float(at) for key, at in rows.all()}

    async def _make(self, keys: list[str]) -> None:
        """The rows of ``keys`` that do not exist, at 0 (free); a concurrent claim's stay."""
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
