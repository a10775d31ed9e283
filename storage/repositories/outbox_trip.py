"""Claimed rows as the dispatcher holds them, and a fan-out's claim in one trip on SQLite.

A fan-out pass's feeder claims the next rows while its requests are in flight, on the one
connection its outcome writes use. On SQLite's one-trip driver a claim was two hand-overs
between the event loop and the database thread (the select with its ``BEGIN IMMEDIATE``, then
the lease with the commit), and between them the event loop, busy with the requests in flight,
built the claimed rows' messages while the outcome writes waited for the connection.
:func:`claim_in_one_trip` runs the same select, the same lease of the rows it read and the
commit as one function on the database thread (the write lock held throughout, as before), and
hands back the driver's rows: the caller builds their messages (:func:`queued`) once the
connection is free for the next outcome write.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy.ext.asyncio import AsyncSession

from storage.along import compiled, one_trip_driver, positional
from storage.repositories import outbox_statements as statements

#: the statement that begins a write transaction on SQLite (``storage.db``)
BEGIN_WRITE = "BEGIN IMMEDIATE"


class QueuedMessage(NamedTuple):
    """A claimed row, detached from any session: what the dispatcher needs to send it.

    A named tuple, not a frozen dataclass: a campaign's claim builds one per recipient, and a
    frozen dataclass sets each field through ``object.__setattr__`` (several times the cost)."""

    id: int
    channel: str
    user_id: str
    member_id: int | None
    payload: dict[str, Any]
    attempts: int
    retry_key: str | None
    promotional: bool
    dedupe_key: str = ""
    #: a promotion its member may no longer get (``withdrawals.unwanted_promotion``)
    unwanted: bool = False
    #: above 0: a direct reply someone is waiting for (:data:`URGENT`)
    priority: int = 0


def queued(rows: Iterable[Any]) -> list[QueuedMessage]:
    """``rows`` (the claim's columns, in order) as :class:`QueuedMessage`; rows with the same
    payload text (a campaign's identical promotion) share one parsed payload, read-only,
    parsed once per claim, and one channel string (a claim holds thousands)."""
    payloads: dict[str, dict[str, Any]] = {}
    channels: dict[str, str] = {}
    claimed: list[QueuedMessage] = []
    add, new = claimed.append, QueuedMessage.__new__
    for row_id, channel, user_id, member_id, raw, attempts, retry_key, promo, key, pri, no in rows:
        if isinstance(raw, str):
            payload = payloads.get(raw)
            if payload is None:
                payload = payloads[raw] = json.loads(raw)
        else:
            payload = dict(raw)
        shared = channels.get(channel)
        if shared is None:
            shared = channels[channel] = sys.intern(channel)
        add(
            new(
                QueuedMessage,
                row_id,
                shared,
                user_id,
                member_id,
                payload,
                attempts,
                retry_key,
                bool(promo),
                key,
                bool(no),
                int(pri or 0),
            )
        )
    return claimed


def unwanted(rows: Iterable[Any]) -> list[int]:
    """The ids of the rows (a claim's, as the driver read them) that are promotions their member
    may no longer get: the claim's last column."""
    return [row[0] for row in rows if row[-1]]


async def claim_in_one_trip(
    session: AsyncSession,
    now: datetime,
    limit: int,
    lease_until: datetime,
    channels: Collection[str],
) -> list[Any] | None:
    """Up to ``limit`` due rows of ``channels`` (each channel's rows to anyone), leased until
    ``lease_until`` (``Outbox.claim``'s statements), as the driver's rows in the claim's column
    order; None on another driver than SQLite's one-trip one (the caller claims as usual).

    The select, the lease and the commit of ``session``'s transaction run in one trip. A claim
    with :func:`unwanted` rows among them is leased but not committed: the caller withdraws
    those rows in the same transaction and commits it."""
    driver = await one_trip_driver(session)
    if driver is None:
        return None
    connection, dialect = driver
    bind = session.get_bind()
    select_sql, select_values = positional(
        statements.claim(bind, channels, urgent_only=False),
        dialect,
        {"now": now, "claim_limit": limit},
    )
    lease = statements.lease(bind)
    lease_sql, lease_values = positional(lease, dialect, {"ids": "[]", "lease_until": lease_until})
    _, names, converters, _ = compiled(lease, dialect)
    at, convert = names.index("ids"), converters[names.index("ids")]

    def claim_lease_commit(database: sqlite3.Connection) -> list[Any]:
        rows = database.execute(select_sql, select_values).fetchall()
        if rows:
            ids = json.dumps([row[0] for row in rows])
            values = list(lease_values)
            values[at] = ids if convert is None else convert(ids)
            database.execute(lease_sql, values)
        if not unwanted(rows):
            database.commit()
        return rows

    rows: list[Any] = await connection.run(claim_lease_commit, connection._conn)
    if not unwanted(rows):
        # the transaction ended on the database thread: what the session still holds is one
        # that has not begun, whose commit has nothing to send (no trip of its own)
        connection.begin_with_next_statement(BEGIN_WRITE)
    return rows
