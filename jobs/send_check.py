"""Claimed rows are checked again while they wait for their turn.

A drain pass claims up to a thousand rows at once, and the platform's rate limit may keep the
last of them waiting for half a minute. A member who sends ``/stop`` (or is erased, or blocks
the bot) meanwhile must not get the promotion that was waiting: before each request the
dispatcher asks :class:`SendCheck` which of the request's rows are still to be sent. The
check is one query for all the pass's unsent rows (:func:`shop.withdrawal.still_to_send`),
made at most once per :data:`RECHECK` — never one per row — so a row withdrawn in the database
is dropped from memory within about a second; only a request already in flight still goes.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Final

from jobs.delivery_plan import Delivery, multicast_key
from shop.withdrawal import still_to_send
from storage.repositories.outbox import QueuedMessage
from storage.uow import UnitOfWorkFactory

log = logging.getLogger(__name__)

#: how stale the pass's picture of its claimed rows may grow before it is checked again
RECHECK: Final = timedelta(seconds=1)


class SendCheck:
    """The claimed rows of one drain pass that are not sent yet, checked again at most once
    per ``every`` (the first time ``every`` after the claim, which checked them itself)."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        now: Callable[[], datetime],
        rows: Iterable[QueuedMessage],
        every: timedelta = RECHECK,
        *,
        lock: asyncio.Lock | None = None,
    ) -> None:
        self._uow = uow
        self._now = now
        self._every = every
        self._unsent = {row.id for row in rows}
        self._gone: set[int] = set()
        self._next = now() + every
        #: held while checking; shared with the dispatcher's claims (one connection for them)
        self.lock = lock or asyncio.Lock()
        #: rows claimed later in the pass, with when: checked by their own claim until ``every``
        self._recent: deque[tuple[datetime, frozenset[int]]] = deque()

    async def keep(self, delivery: Delivery) -> Delivery | None:
        """``delivery`` less its rows withdrawn since the claim; None when none is left. A
        multicast that lost rows gets the retry key of the rows it still has."""
        if self._now() >= self._next:
            async with self.lock:  # one check for the workers that arrive together
                if self._now() >= self._next:
                    await self._check()
        if not self._gone:
            return delivery
        rows = tuple(row for row in delivery.rows if row.id not in self._gone)
        if len(rows) == len(delivery.rows):
            return delivery
        # each row is asked about once: a long fan-out pass must not keep its ids
        self._gone.difference_update(row.id for row in delivery.rows)
        if not rows:
            return None
        key = multicast_key(rows) if delivery.multicast else delivery.retry_key
        return replace(delivery, rows=rows, retry_key=key)

    def add(self, rows: Iterable[QueuedMessage]) -> None:
        """Rows claimed later in the pass (a fan-out's next claim, checked by that claim)."""
        ids = frozenset(row.id for row in rows)
        self._unsent.update(ids)
        self._recent.append((self._now(), ids))

    def done(self, delivery: Delivery) -> None:
        """The outcome of ``delivery`` is recorded: its rows need no more checks."""
        self._unsent.difference_update(row.id for row in delivery.rows)

    async def _check(self) -> None:
        now = self._now()
        while self._recent and self._recent[0][0] <= now - self._every:
            self._recent.popleft()
        # rows their claim checked less than ``every`` ago need no second look yet
        ids = self._unsent.difference(*(claimed for _, claimed in self._recent))
        self._next = now + self._every
        if not ids:
            return
        try:
            async with self._uow() as uow:
                kept = await still_to_send(uow, ids, self._now())
                await uow.commit()
        except Exception:  # the database is away: send as claimed rather than stall the pass
            log.exception("checking %s claimed outbox rows again failed", len(ids))
            kept = ids
        # rows recorded while the check ran are done, not gone
        gone = (ids - kept) & self._unsent
        self._gone |= gone
        self._unsent -= gone
