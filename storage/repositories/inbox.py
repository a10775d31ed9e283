"""The shop's inbox (threads of customer messages and staff answers) and visit feedback.

A thread belongs to one chat identity; at most one is open per identity at a time (the handler
looks the open one up before opening another, inside the event's unit of work; on PostgreSQL
under a lock of the chat account, and a customer's message goes only into a thread still open:
``inbox_statements``). Messages keep
the customer's LINE reply token only while it is unused, so a staff answer can spend it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import (
    case,
    func,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from storage import direct
from storage.core_writes import CoreWrites
from storage.models import (
    ChannelIdentity,
    Feedback,
    InboxMessage,
    InboxThread,
    Member,
    Sale,
)
from storage.repositories import inbox_statements as sql
from storage.repositories.arrival import attached
from storage.repositories.inbox_statements import OPEN as OPEN
from storage.repositories.outbox_statements import key_prefix_pattern
from storage.upsert import insert_once

CLOSED: Final = "closed"


@dataclass(frozen=True, slots=True)
class ThreadSummary:
    """One open thread as ``/inbox`` lists it."""

    thread_id: int
    name: str
    last_text: str
    waiting_since: datetime
    branch_id: int | None


class AccountGone(Exception):
    """The author's chat account was deleted (erased) by a transaction the event waited for
    (PostgreSQL): there is no one to store the event's text for."""


class Inbox:
    def __init__(self, session: AsyncSession, writes: CoreWrites | None = None) -> None:
        self._s = session
        self._writes = writes or CoreWrites(session)
        self._locks: bool | None = None

    async def receive(
        self,
        thread: InboxThread,
        identity_id: int,
        text: str,
        now: datetime,
        reply_token: str | None = None,
        *,
        opened: bool = False,
    ) -> InboxMessage | None:
        """A customer's message stored in ``thread``, whose ``last_message_at`` becomes ``now``;
        None, nothing written, when the thread is no longer open (PostgreSQL: staff closed it in
        a parallel transaction since it was read, see ``inbox_statements``). ``opened``: this
        unit of work opened the thread (nobody else sees it, so it is not checked).

        Core statements (an INSERT … RETURNING and the thread's UPDATE, one statement where it
        is checked) rather than session objects to flush: this runs for every customer message.
        The message returned is not the session's (nothing changes it after this); the thread
        shows its new time as stored.
        """
        values = {
            "thread_id": thread.id,
            "direction": "in",
            "staff_id": None,
            "identity_id": identity_id,
            "member_id": thread.member_id,
            "text": text,
            "reply_token": reply_token,
            "status": OPEN,
            "received_at": now,
        }
        if not opened and self._locking():
            # on the driver once the transaction has begun (storage/direct.py)
            given = {f"in_{name}": value for name, value in values.items()}
            checked = given | {"thread_id": thread.id, "now": now}
            found = await direct.fetch_all(self._s, sql.RECEIVE_CHECKED, checked)
            if not found:
                return None
            self._writes.wrote(thread, {"last_message_at": now})
            return InboxMessage(id=found[0][0], **values)
        ((message_id,),) = await direct.fetch_all(self._s, sql.RECEIVE, values)
        if thread.last_message_at != now:
            moved = {"thread_id": thread.id, "now": now}
            # on SQLite it goes with the next statement (the handler's next, or the commit)
            await direct.write(self._s, sql.MOVED, moved)
            self._writes.wrote(thread, {"last_message_at": now})
        return InboxMessage(id=message_id, **values)

    def _locking(self) -> bool:
        """Whether the hot path's statements lock and check (PostgreSQL's parallel
        transactions; SQLite's one writer needs neither), see ``inbox_statements``."""
        if self._locks is None:
            self._locks = self._s.get_bind().dialect.name == "postgresql"
        return self._locks

    async def add(
        self,
        identity_id: int,
        member_id: int | None,
        text: str,
        now: datetime,
        reply_token: str | None = None,
        *,
        thread_id: int | None = None,
        direction: str = "in",
        staff_id: int | None = None,
    ) -> InboxMessage:
        message = InboxMessage(
            identity_id=identity_id,
            member_id=member_id,
            text=text,
            reply_token=reply_token,
            status=OPEN,
            received_at=now,
            thread_id=thread_id,
            direction=direction,
            staff_id=staff_id,
        )
        self._s.add(message)
        await self._s.flush()
        return message

    async def of_identity(self, identity_id: int) -> Sequence[InboxMessage]:
        result = await self._s.execute(
            select(InboxMessage)
            .where(InboxMessage.identity_id == identity_id)
            .order_by(InboxMessage.id)
        )
        return result.scalars().all()

    # -- threads ---------------------------------------------------------------------------

    async def open_thread_and_last_direction(
        self, identity_id: int
    ) -> tuple[InboxThread | None, str | None]:
        """The identity's open thread (the newest) and the direction of its last message, in one
        SELECT (free text from a customer reads both, on the hot path): read as plain values
        on the driver, the thread the session's object of its row (``arrival.attached``). On
        PostgreSQL it locks the chat account's row until the commit (``inbox_statements``)."""
        locking = self._locking()
        statement = sql.OPEN_AND_LAST_LOCKED if locking else sql.OPEN_AND_LAST
        found = await direct.fetch_all(self._s, statement, {"identity_id": identity_id})
        if locking and not found:  # the locked read waited for an erasure that deleted it
            raise AccountGone(identity_id)
        if not found or found[0][0] is None:
            return None, None
        row = found[0]
        values = dict(zip(sql.THREAD_NAMES, row, strict=False))
        return attached(self._s, self._writes, InboxThread, values), row[-1]

    async def open_thread(
        self, identity_id: int, member_id: int | None, branch_id: int | None, now: datetime
    ) -> InboxThread | None:
        """A new open thread: a Core INSERT naming every column (on the driver once the
        transaction has begun), the session's object of its row made from the values. None,
        nothing written, when the identity has an open thread (PostgreSQL: one opened by a
        transaction that committed since the caller read, see ``inbox_statements``)."""
        values: dict[str, object] = {
            "identity_id": identity_id,
            "member_id": member_id,
            "branch_id": branch_id,
            "status": OPEN,
            "opened_at": now,
            "last_message_at": now,
            "first_response_at": None,
            "closed_at": None,
            "closed_by_staff_id": None,
        }
        statement = sql.OPEN_UNLESS_OPEN if self._locking() else sql.OPEN_THREAD
        found = await direct.fetch_all(self._s, statement, values)
        if not found:
            return None
        made = {"id": found[0][0], **values}
        return attached(self._s, self._writes, InboxThread, made, inserted=True)

    async def thread(self, thread_id: int) -> InboxThread | None:
        return await self._s.get(InboxThread, thread_id)

    async def customer_of(self, thread: InboxThread) -> ChannelIdentity | None:
        """The chat account the thread's customer writes from (None once it is gone). On
        PostgreSQL its row is share-locked (``FOR KEY SHARE``) until the commit: an answer
        written to it then cannot meet an erasure deleting it in a parallel transaction, which
        it waits for instead (and then finds the account gone)."""
        found = await self._s.execute(
            select(ChannelIdentity)
            .where(ChannelIdentity.id == thread.identity_id)
            .with_for_update(read=True, key_share=True)
        )
        return found.scalar_one_or_none()

    async def messages(self, thread_id: int) -> Sequence[InboxMessage]:
        result = await self._s.execute(
            select(InboxMessage)
            .where(InboxMessage.thread_id == thread_id)
            .order_by(InboxMessage.id)
        )
        return result.scalars().all()

    async def last_message(
        self, thread_id: int, direction: str | None = None
    ) -> InboxMessage | None:
        query = select(InboxMessage).where(InboxMessage.thread_id == thread_id)
        if direction is not None:
            query = query.where(InboxMessage.direction == direction)
        result = await self._s.execute(query.order_by(InboxMessage.id.desc()).limit(1))
        return result.scalar_one_or_none()

    async def alerts_since(self, key_prefix: str, since: datetime) -> int:
        """Outbox rows whose key starts with ``key_prefix`` queued at or after ``since``.

        Every customer message to the inbox asks this, and the outbox holds every campaign's
        rows: SQLite cannot use the key's index for a case-insensitive ``LIKE``, so the prefix
        is also given as a range of keys (exact under SQLite's byte order), which reads only the
        thread's own rows instead of the whole outbox. PostgreSQL keeps the ``LIKE`` alone: a
        range is only exact under the "C" collation.
        """
        sqlite = self._s.get_bind().dialect.name == "sqlite"
        params = {"pattern": key_prefix_pattern(key_prefix), "since": since}
        if key_prefix and sqlite:
            after = key_prefix[:-1] + chr(ord(key_prefix[-1]) + 1)
            params |= {"low": key_prefix, "high": after}
        # on the driver once the transaction has begun (storage/direct.py)
        ((count,),) = await direct.fetch_all(
            self._s, sql.alerts_query(bool(key_prefix) and sqlite), params
        )
        return int(count)

    async def open_threads(self, branch_id: int | None, limit: int = 20) -> list[ThreadSummary]:
        """Open threads, longest waiting first; with ``branch_id`` only that branch's threads
        and threads of no branch (customers without a home branch)."""
        query = (
            select(InboxThread, Member.name, ChannelIdentity.display_name)
            .join(ChannelIdentity, ChannelIdentity.id == InboxThread.identity_id)
            .outerjoin(Member, Member.id == InboxThread.member_id)
            .where(InboxThread.status == OPEN)
        )
        if branch_id is not None:
            query = query.where(
                or_(InboxThread.branch_id == branch_id, InboxThread.branch_id.is_(None))
            )
        rows = (
            await self._s.execute(
                query.order_by(InboxThread.last_message_at, InboxThread.id).limit(limit)
            )
        ).all()
        out: list[ThreadSummary] = []
        for thread, member_name, display_name in rows:
            last = await self.last_message(thread.id)
            out.append(
                ThreadSummary(
                    thread.id,
                    member_name or display_name or "?",
                    last.text if last is not None else "",
                    thread.last_message_at,
                    thread.branch_id,
                )
            )
        return out

    async def response_seconds(
        self, since: datetime, until: datetime, branch_id: int | None = None
    ) -> tuple[int, float | None]:
        """(threads opened in [since, until) that got an answer, their mean first-response
        time in seconds, None when there is none). Averaged in Python: portable. With
        ``branch_id`` only that branch's threads and those of no branch (as
        :meth:`open_threads` lists them for its manager)."""
        query = select(InboxThread.opened_at, InboxThread.first_response_at).where(
            InboxThread.opened_at >= since,
            InboxThread.opened_at < until,
            InboxThread.first_response_at.is_not(None),
        )
        if branch_id is not None:
            query = query.where(
                or_(InboxThread.branch_id == branch_id, InboxThread.branch_id.is_(None))
            )
        result = await self._s.execute(query)
        waits = [
            (answered - opened).total_seconds()
            for opened, answered in result.all()
            if answered is not None
        ]
        return len(waits), (sum(waits) / len(waits) if waits else None)


@dataclass(frozen=True, slots=True)
class BranchRating:
    branch_id: int
    answers: int
    average: float
    low: int


class Feedbacks:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def due_sales(self, earliest: datetime, latest: datetime, limit: int = 500) -> list[int]:
        """Ids of member sales made in [earliest, latest], not voided, with no feedback row,
        whose member is not erased."""
        asked = select(Feedback.sale_id)
        result = await self._s.execute(
            select(Sale.id)
            .join(Member, Member.id == Sale.member_id)
            .where(
                Sale.occurred_at >= earliest,
                Sale.occurred_at <= latest,
                Sale.voided_at.is_(None),
                Member.erased_at.is_(None),
                Sale.id.not_in(asked),
            )
            .order_by(Sale.id)
            .limit(limit)
        )
        return [int(row) for row in result.scalars().all()]

    async def sale(self, sale_id: int) -> Sale | None:
        """The sale a feedback question would be about."""
        return await self._s.get(Sale, sale_id)

    async def create(self, sale: Sale, asked_at: datetime) -> Feedback | None:
        """The feedback row of ``sale``; None when one exists already (asked once per sale)."""
        assert sale.member_id is not None
        values = {
            "sale_id": sale.id,
            "member_id": sale.member_id,
            "branch_id": sale.branch_id,
            "asked_at": asked_at,
        }
        if not await insert_once(self._s, Feedback, values, ["sale_id"]):
            return None
        result = await self._s.execute(select(Feedback).where(Feedback.sale_id == sale.id))
        return result.scalar_one()

    async def get(self, feedback_id: int) -> Feedback | None:
        return await self._s.get(Feedback, feedback_id)

    async def rated_at_most(
        self, member_id: int, branch_id: int, stars: int, since: datetime
    ) -> bool:
        """Whether the member rated a visit to the branch ``stars`` or fewer since ``since``."""
        result = await self._s.execute(
            select(Feedback.id)
            .where(
                Feedback.member_id == member_id,
                Feedback.branch_id == branch_id,
                Feedback.rating <= stars,
                Feedback.answered_at >= since,
            )
            .limit(1)
        )
        return result.first() is not None

    async def by_branch(self, since: datetime, until: datetime) -> list[BranchRating]:
        """Answers per branch in [since, until): how many, mean stars, how many ≤ 2."""
        result = await self._s.execute(
            select(
                Feedback.branch_id,
                func.count(Feedback.id),
                func.sum(Feedback.rating),
                func.count(case((Feedback.rating <= 2, 1))),
            )
            .where(
                Feedback.answered_at >= since,
                Feedback.answered_at < until,
                Feedback.rating.is_not(None),
            )
            .group_by(Feedback.branch_id)
            .order_by(Feedback.branch_id)
        )
        return [
            BranchRating(int(branch), int(n), int(total or 0) / int(n), int(lows))
            for branch, n, total, lows in result.all()
        ]
