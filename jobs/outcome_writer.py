"""Storing the outcomes of the dispatcher's requests: a group commit.

Every worker of a drain pass hands the outcome of its request to :meth:`OutcomeWriter.write`
and waits until it is committed before it sends anything else — so, as before, at most
``concurrency`` accepted requests are ever unrecorded (the crash-safety window of
:mod:`jobs.dispatcher`). What changes is how the outcomes reach the database: while one
transaction is being written, the outcomes that arrive meanwhile queue up and are written
together by the next one. With one writer at a time there is no lock contention between the
workers (SQLite serialises writers), and the ``sent`` rows of a group, a multicast's 500
included, are marked with one ``UPDATE … RETURNING`` instead of one statement each.

The campaign hook still runs in the transaction that stores the outcome: per row for
``failed`` and ``unreachable`` (it records contact events), and once per campaign of the group
for ``sent`` rows, where its only effect is to finish the campaign when nothing is pending —
the same for the last row as for every row. A group of accepted requests only (the common one
during a campaign), with that hook, reaches SQLite in one trip: marks, finish checks, commit.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final

from bot.core.messages import Reply
from bot.core.wire import replies_to_payload
from jobs.campaign_delivery import OutcomeHook, campaign_of, finishes_only, pause_for_quota
from jobs.delivery_plan import Delivery
from jobs.dispatch_types import FINAL_OUTCOMES, Outcome
from storage.repositories.outbox import QueuedMessage
from storage.uow import UnitOfWork, UnitOfWorkFactory

#: waits after the 1st, 2nd, … failed attempt (the last one repeats)
BACKOFF: Final = (
    timedelta(seconds=5),
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=10),
)
MAX_ATTEMPTS: Final = 6


def backoff(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failed attempt."""
    return BACKOFF[min(max(attempts, 1), len(BACKOFF)) - 1]


@dataclass
class _Entry:
    delivery: Delivery
    outcome: Outcome
    not_before: datetime | None
    error: str | None
    #: what is left to send of a one-row request that went out in part (None: all of it)
    rest: Sequence[Reply] | None = None
    done: asyncio.Future[list[str]] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class OutcomeWriter:
    """Writes outcomes in groups, one transaction at a time; see the module docstring."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        now: Callable[[], datetime],
        hook: Callable[[], OutcomeHook],
        locale: str,
        *,
        lock: asyncio.Lock | None = None,
    ) -> None:
        self._uow = uow
        self._now = now
        self._hook = hook
        self._locale = locale
        #: held while a group is written; the dispatcher shares it with its claims and send
        #: checks, so that all of them take turns on one connection of the pool
        self._lock = lock or asyncio.Lock()
        self._queue: list[_Entry] = []
        self._flusher: asyncio.Task[None] | None = None
        #: PostgreSQL: a group of accepted rows with no campaign among them, marked alone (a
        #: stand-in factory, as tests give, has none)
        self._bare = uow.bare_marks() if isinstance(uow, UnitOfWorkFactory) else None

    async def write(
        self,
        delivery: Delivery,
        outcome: Outcome,
        not_before: datetime | None = None,
        error: str | None = None,
        rest: Sequence[Reply] | None = None,
    ) -> list[str]:
        """Store ``outcome`` for every row of ``delivery``; returns each row's final outcome
        (``withdrawn`` for a row that was no longer pending) once it is committed. ``rest``:
        the replies a retried row still has to send, when part of it went out."""
        entry = _Entry(delivery, outcome, not_before, error, rest)
        self._queue.append(entry)
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        # the group is written even when this worker is cancelled meanwhile (a stop)
        return await asyncio.shield(entry.done)

    async def _flush(self) -> None:
        while self._queue:
            group, self._queue = self._queue, []
            try:
                results = await self._store(group)
            except BaseException as error:  # every waiting worker hears it, as it would alone
                for entry in group:
                    if not entry.done.done():
                        entry.done.set_exception(error)
                if not isinstance(error, Exception):
                    raise
                continue
            for entry, result in zip(group, results, strict=True):
                entry.done.set_result(result)

    async def _store(self, group: list[_Entry]) -> list[list[str]]:
        now = self._now()
        hook = self._hook()
        if finishes_only(hook) and all(entry.outcome == "sent" for entry in group):
            return await self._store_sent(group, hook, now)
        async with self._lock, self._uow() as uow:
            sent = [row.id for e in group if e.outcome == "sent" for row in e.delivery.rows]
            marked = await uow.outbox.mark_all_sent(sent, now) if sent else set()
            finished: dict[int, str] = {}  # campaign → a key of it, for the hook
            results: list[list[str]] = []
            for entry in group:
                if entry.outcome == "sent":
                    results.append(_sent(entry.delivery.rows, marked, finished))
                else:
                    rows = entry.delivery.rows
                    results.append([await _record_row(uow, hook, r, entry, now) for r in rows])
                if entry.outcome == "quota_exhausted":
                    rows = entry.delivery.rows
                    ids = {campaign_of(m.dedupe_key) for m in rows if m.promotional}
                    if campaigns := {c for c in ids if c is not None}:
                        await pause_for_quota(uow, campaigns, now, self._locale)
            for key in finished.values():
                await hook(uow, key, "sent", now)
            await uow.commit()
        return results

    async def _store_sent(
        self, group: list[_Entry], hook: OutcomeHook, now: datetime
    ) -> list[list[str]]:
        """A group of accepted requests, the common one during a campaign: the marks, the
        campaigns' finishing and the commit in one trip where the driver allows (SQLite). The
        hook hears the campaigns of the accepted rows before their marks are read, those whose
        rows were all withdrawn meanwhile included (:func:`finishes_only`). On PostgreSQL a
        group with no campaign's row is the marks' one statement, with no unit of work."""
        ids = [row.id for entry in group for row in entry.delivery.rows]
        campaigns = _campaigns(row for entry in group for row in entry.delivery.rows)
        if self._bare is not None and not campaigns:
            async with self._lock:
                pending = await self._bare.mark_all_sent(ids, now)
        else:
            async with self._lock, self._uow() as uow:
                marked = await uow.outbox.mark_all_sent_along(ids, now)
                for key in campaigns:
                    await hook(uow, key, "sent", now)
                await uow.commit()
            pending = marked()
        if len(pending) == len(ids):  # every row was still pending: all sent
            return [["sent"] * len(entry.delivery.rows) for entry in group]
        return [_sent(entry.delivery.rows, pending, {}) for entry in group]

    async def close(self) -> None:
        """Wait for the group being written (a stop lets it finish)."""
        if self._flusher is not None:
            with contextlib.suppress(Exception):
                await self._flusher


def _sent(rows: Iterable[QueuedMessage], marked: set[int], finished: dict[int, str]) -> list[str]:
    """Each row's outcome of an accepted request (``withdrawn``: no longer pending when it was
    marked); the campaign of each sent promotion in ``finished``, with its last row's key."""
    names: list[str] = []
    # a campaign's keys differ in their last part only: its campaign is read once per head
    heads: dict[str, int | None] = {}
    for row in rows:
        if row.id not in marked:
            names.append("withdrawn")
            continue
        names.append("sent")
        if not row.promotional:
            continue
        key = row.dedupe_key
        head = key.rpartition(":")[0]
        if ":" not in head:  # fewer than three parts: read the whole key
            campaign = campaign_of(key)
        elif (campaign := heads.get(head, -1)) == -1:
            campaign = heads[head] = campaign_of(key)
        if campaign is not None:
            finished[campaign] = key
    return names


def _campaigns(rows: Iterable[QueuedMessage]) -> list[str]:
    """A key of each campaign among the promotions of ``rows`` (read as :func:`_sent` reads
    them: a campaign's keys differ in their last part only, so one key per head is read)."""
    heads: dict[str, str] = {}
    for row in rows:
        if row.promotional:
            key = row.dedupe_key
            head = key.rpartition(":")[0]
            heads[head if ":" in head else key] = key
    found: dict[int, str] = {}
    for key in heads.values():
        if (campaign := campaign_of(key)) is not None:
            found[campaign] = key
    return list(found.values())


async def _record_row(
    uow: UnitOfWork, hook: OutcomeHook, message: QueuedMessage, entry: _Entry, now: datetime
) -> str:
    box, outcome, error = uow.outbox, entry.outcome, entry.error
    rest, left = entry.rest, None
    if rest is not None and len(entry.delivery.rows) == 1:  # the rest of its replies, the rest kept
        left = {**message.payload, **replies_to_payload(rest)}
    if outcome in ("rate_limited", "quota_exhausted", "released"):
        changed = await box.reschedule(
            message.id, entry.not_before or now, error, count_attempt=False, payload=left
        )
    elif outcome == "unreachable":
        changed = await box.mark_unreachable(message.id, error or "")
    elif outcome == "retrying" and message.attempts + 1 < MAX_ATTEMPTS:
        wait = backoff(message.attempts + 1)
        changed = await box.reschedule(
            message.id, now + wait, error, count_attempt=True, payload=left
        )
    else:  # failed, or retrying with its attempts used up
        outcome = "failed"
        changed = await box.mark_failed(message.id, error or "failed")
    if not changed:
        return "withdrawn"
    if outcome in FINAL_OUTCOMES and message.promotional and campaign_of(message.dedupe_key):
        await hook(uow, message.dedupe_key, outcome, now)
    return outcome
