"""The outbox: messages that are not direct replies, queued in the transaction of their cause.

Life of a row: ``pending`` → ``sent`` | ``failed`` | ``unreachable`` | ``cancelled`` (withdrawn
unsent: ``storage.repositories.withdrawals``). A pending row is due when
``not_before <= now``. The dispatcher *claims* due rows by moving ``not_before`` a lease into the
future in a short transaction of its own (on PostgreSQL under ``FOR UPDATE SKIP LOCKED``, so two
processes never claim one row; SQLite's ``BEGIN IMMEDIATE`` serialises claims), sends, and then
records the outcome. A process that dies between sending and recording leaves the row pending
with an expiring lease: it is sent again once the lease ends (LINE de-duplicates that repeat by
the row's ``retry_key``, generated once at enqueue time). Every mark is conditional on the row
still being pending, so a row withdrawn meanwhile (erasure, a cancelled campaign) stays withdrawn.
"""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import datetime
from typing import Any, Final, NamedTuple

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from storage.along import one_trip_driver, send_along
from storage.bulk import bulk_insert
from storage.bulk.sql import commonly_true, is_among
from storage.models import ChannelIdentity, OutboxMessage, table_of
from storage.repositories import outbox_statements as statements
from storage.repositories.outbox_reads import FAILED, PENDING, OutboxReads, is_pending, is_urgent
from storage.repositories.outbox_rows import new_row, to_member
from storage.repositories.outbox_statements import Recipients
from storage.sqlite_driver import Along
from storage.upsert import insert_named_once

SENT: Final = "sent"
UNREACHABLE: Final = "unreachable"

#: the priority of a direct reply queued because it could not go out at once
URGENT: Final = 1


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


def _queued(rows: Iterable[Any]) -> list[QueuedMessage]:
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


class Outbox(OutboxReads):
    def __init__(self, session: AsyncSession) -> None:
        self._s = session
        #: rows this unit of work queued; the bus wakes the dispatcher after commit when > 0
        self.enqueued = 0

    def _among(self, message_ids: Collection[int]) -> ColumnElement[bool]:
        """``id IN message_ids`` bound as one value: thousands of ids a claim or a multicast."""
        return is_among(self._s.get_bind(), table_of(OutboxMessage).c.id, message_ids)

    def _pending(self) -> ColumnElement[bool]:
        """Pending, beside :meth:`_among`: the ids are looked up, not the pending rows walked."""
        return commonly_true(self._s.get_bind(), OutboxMessage.status == PENDING)

    async def enqueue(
        self,
        dedupe_key: str,
        channel: str,
        user_id: str,
        payload: dict[str, Any],
        now: datetime,
        member_id: int | None = None,
        promotional: bool = False,
        not_before: datetime | None = None,
        priority: int = 0,
        status: str = PENDING,
        error: str | None = None,
        retry_key: str | None = None,
    ) -> bool:
        """Queue a message once per ``dedupe_key``; False if that key was queued before.

        ``INSERT … ON CONFLICT DO NOTHING`` makes this safe against a concurrent enqueue of the
        same key too (a plain insert would abort the whole transaction on PostgreSQL).
        ``priority`` above 0 puts the row before every other (a reply someone waits for); a
        ``status`` other than pending records a message that already failed for good;
        ``retry_key`` one whose sends were tried with that key before (a direct reply).
        """
        values = new_row(
            dedupe_key,
            payload,
            now,
            member_id=member_id,
            promotional=promotional,
            not_before=not_before,
            priority=priority,
            status=status,
            error=error,
            retry_key=retry_key,
        )
        values |= {"channel": channel, "user_id": user_id}
        # every column named: on the driver once the transaction has begun (storage/direct.py)
        inserted = await insert_named_once(self._s, OutboxMessage, values, ["dedupe_key"])
        if inserted:
            self.enqueued += 1
        return inserted

    async def enqueue_to_member(
        self,
        dedupe_key: str,
        member_id: int,
        payload: dict[str, Any],
        now: datetime,
        *,
        promotional: bool = False,
        not_before: datetime | None = None,
    ) -> bool:
        """:meth:`enqueue` to the member's preferred chat account (reachable, seen last),
        chosen by the same statement; False when nothing was written: the member has no
        reachable account, or ``dedupe_key`` was queued before."""
        values = new_row(
            dedupe_key,
            payload,
            now,
            member_id=member_id,
            promotional=promotional,
            not_before=not_before,
        )
        inserted = await to_member(self._s, values)
        self.enqueued += inserted
        return inserted

    async def add_many(self, rows: Sequence[dict[str, Any]]) -> None:
        """New rows (``OutboxMessage`` columns as dicts, keys never queued before: a campaign's
        launch) straight to the driver (COPY on PostgreSQL), pending, each with its own
        ``retry_key`` as :meth:`enqueue` gives."""
        if rows:
            new = [
                {**row, "status": PENDING, "attempts": 0, "retry_key": str(uuid.uuid4())}
                for row in rows
            ]
            await bulk_insert(await self._s.connection(), table_of(OutboxMessage), new)
            self.enqueued += len(rows)

    async def get(self, message_id: int) -> OutboxMessage | None:
        return await self._s.get(OutboxMessage, message_id, populate_existing=True)

    async def by_key(self, dedupe_key: str) -> OutboxMessage | None:
        result = await self._s.execute(
            select(OutboxMessage).where(OutboxMessage.dedupe_key == dedupe_key)
        )
        return result.scalar_one_or_none()

    async def due(
        self, now: datetime, limit: int, channels: Collection[str] | None = None
    ) -> Sequence[OutboxMessage]:
        """Pending rows with ``not_before <= now``, longest-waiting first, locked for this
        transaction (rows another transaction holds are skipped, not waited for)."""
        query = select(OutboxMessage).where(is_pending(), OutboxMessage.not_before <= now)
        if channels is not None:
            query = query.where(OutboxMessage.channel.in_(list(channels)))
        query = (
            query.order_by(OutboxMessage.not_before, OutboxMessage.id)
            .limit(limit)
            .with_for_update(skip_locked=True)  # the SQLite dialect leaves this out
        )
        return (await self._s.execute(query)).scalars().all()

    async def claim(
        self,
        now: datetime,
        limit: int,
        lease_until: datetime,
        channels: Collection[str],
        recipients: Recipients | None = None,
        *,
        urgent_only: bool = False,
    ) -> list[QueuedMessage]:
        """Take up to ``limit`` due rows of ``channels`` for sending until ``lease_until``
        (of a channel in ``recipients``, only the rows to its users).

        The columns are read as plain rows (locked as :meth:`due` locks them) and the lease is
        set by one ``UPDATE`` of their ids: no ORM objects for a thousand rows a pass. The same
        ``SELECT`` tells which are ``unwanted`` promotions, for the caller to withdraw.
        ``urgent_only``: only rows with a priority (the dispatcher's express pass)."""
        if not channels:
            return []
        bind = self._s.get_bind()
        scoped = recipients and any(channel in recipients for channel in channels)
        query = (
            self._claim_scoped(channels, recipients or {}, urgent_only)
            if scoped
            else statements.claim(bind, channels, urgent_only=urgent_only)
        )
        # Core rows, not the ORM's: a campaign's claim holds a row per recipient
        connection = await self._s.connection()
        claimed = _queued(await connection.execute(query, {"now": now, "claim_limit": limit}))
        if claimed:
            ids = statements.ids_value(bind, [message.id for message in claimed])
            values = {"ids": ids, "lease_until": lease_until}
            # SQLite (one writer at a time, the write lock held since the select): the lease
            # goes with the transaction's next statement, often its commit, a trip saved a claim
            if (driver := await one_trip_driver(self._s)) is not None:
                send_along(driver, statements.lease(bind), values)
            else:
                await connection.execute(statements.lease(bind), values)
        return claimed

    def _claim_scoped(
        self, channels: Collection[str], recipients: Recipients, urgent_only: bool
    ) -> Any:
        """The claim of :func:`statements.claim` with some channels' rows only to their
        ``recipients`` (a console terminal's own user), built each time: a value in its text."""
        unscoped = statements.claim(self._s.get_bind(), channels, urgent_only=urgent_only)
        return unscoped.where(statements.of_channels(channels, recipients))

    async def release(self, message_ids: Collection[int], not_before: datetime) -> None:
        """Give back claimed rows that were not sent (shutdown, a paused channel, an expiring
        lease) so they are due again at ``not_before`` instead of when the lease ends."""
        if not message_ids:
            return
        await self._s.execute(
            update(OutboxMessage)
            .where(self._among(message_ids), self._pending())
            .values(not_before=not_before)
            .execution_options(synchronize_session=False)
        )

    async def defer_promotional(
        self,
        now: datetime,
        until: datetime,
        channels: Collection[str],
        recipients: Recipients | None = None,
    ) -> int:
        """Move due promotional rows of ``channels`` (scoped as :meth:`claim` scopes them) to
        ``until`` (quiet hours): deferred, not dropped, no attempt used. Returns how many rows
        moved."""
        if not channels:
            return 0
        result = await self._s.execute(
            update(OutboxMessage)
            .where(
                is_pending(),
                OutboxMessage.promotional.is_(True),
                OutboxMessage.not_before <= now,
                statements.of_channels(channels, recipients),
            )
            .values(not_before=until)
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def _update_pending(self, message_id: int, **values: Any) -> bool:
        result = await self._s.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, OutboxMessage.status == PENDING)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount or 0) == 1  # type: ignore[attr-defined]

    async def mark_sent(self, message_id: int, now: datetime) -> bool:
        """The platform accepted the message. False if the row is no longer pending."""
        return await self._update_pending(
            message_id, status=SENT, sent_at=now, attempts=OutboxMessage.attempts + 1, error=None
        )

    async def mark_all_sent(self, message_ids: Collection[int], now: datetime) -> set[int]:
        """The platform accepted all of ``message_ids`` (one multicast, or a group of outcomes):
        mark the still-pending ones sent in one statement; returns the ids that were pending."""
        # a Core statement on the session's connection: the ORM would build a result row per
        # returned id (a multicast's 500)
        connection = await self._s.connection()
        bind = self._s.get_bind()
        result = await connection.execute(
            statements.mark_sent(bind),
            {"ids": statements.ids_value(bind, message_ids), "marked_at": now},
        )
        return set(result.scalars())

    async def mark_all_sent_along(
        self, message_ids: Collection[int], now: datetime
    ) -> Callable[[], set[int]]:
        """:meth:`mark_all_sent` sent, on SQLite's one-trip driver, with the transaction's next
        statement (its commit: a trip saved per group of outcomes); what it returns says the
        ids that were pending once that statement ran (elsewhere, at once)."""
        driver = await one_trip_driver(self._s)
        if driver is None:
            marked = await self.mark_all_sent(message_ids, now)
            return lambda: marked
        bind = self._s.get_bind()
        values = {"ids": statements.ids_value(bind, message_ids), "marked_at": now}
        along = Along()
        send_along(driver, statements.mark_sent(bind), values, along)
        return statements.returned_ids(along)

    async def reschedule(
        self,
        message_id: int,
        not_before: datetime,
        error: str | None,
        *,
        count_attempt: bool,
        payload: dict[str, Any] | None = None,
    ) -> bool:
        """Try again at ``not_before``; ``count_attempt`` is False for waits that are not the
        message's fault (rate limits, quota), which must not use up its attempts. ``payload``:
        what is left to send, when part of the message went out."""
        values: dict[str, Any] = {"not_before": not_before, "error": statements.clip(error)}
        if payload is not None:
            values["payload"] = payload
        if count_attempt:
            values["attempts"] = OutboxMessage.attempts + 1
        return await self._update_pending(message_id, **values)

    async def mark_failed(self, message_id: int, error: str, *, count_attempt: bool = True) -> bool:
        values: dict[str, Any] = {"status": FAILED, "error": statements.clip(error)}
        if count_attempt:
            values["attempts"] = OutboxMessage.attempts + 1
        return await self._update_pending(message_id, **values)

    async def mark_unreachable(self, message_id: int, error: str) -> bool:
        """The recipient blocked the bot; also marks their chat account unreachable."""
        row = await self.get(message_id)
        if row is None or row.status != PENDING:
            return False
        row.status = UNREACHABLE
        row.attempts += 1
        row.error = statements.clip(error)
        await self._s.execute(
            update(ChannelIdentity)
            .where(ChannelIdentity.channel == row.channel, ChannelIdentity.user_id == row.user_id)
            .values(reachable=False)
            .execution_options(synchronize_session=False)
        )
        await self._s.flush()
        return True

    async def has_urgent(self, channel: str, user_id: str) -> bool:
        """Replies to this chat wait in the outbox (pending urgent rows)."""
        box = OutboxMessage
        query = select(box.id).where(
            is_urgent(),
            box.channel == channel,
            box.user_id == user_id,
        )
        return (await self._s.execute(query.limit(1))).first() is not None
