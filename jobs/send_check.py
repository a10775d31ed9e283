"""Claimed rows are checked again while they wait for their turn.

A drain pass claims up to a thousand rows at once, and the platform's rate limit may keep the
last of them waiting for half a minute. A member who sends ``/stop`` (or is erased, or blocks
the bot) meanwhile must not get the promotion that was waiting: before each request the
dispatcher asks :class:`SendCheck` which of the request's rows are still to be sent. The
check is one query for all the pass's unsent rows (:func:`shop.withdrawal.still_to_send`),
made at most once per :data:`RECHECK` — never one per row — so a row withdrawn in the database
is dropped from memory within about a second; only a request already in flight still goes.

The quiet hours are checked there too: a pass claimed before they began may still hold
promotions when they begin (a slow platform, a long queue), and those wait for the morning
(:class:`QuietHours`) — a comparison with the claim's next quiet start, no query.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from jobs.delivery_plan import Delivery, multicast_key
from shop.contact_policy import ContactPolicy, next_send_time, quiet_from
from shop.withdrawal import still_to_send
from storage.repositories.outbox import QueuedMessage
from storage.uow import UnitOfWorkFactory

log = logging.getLogger(__name__)

#: how stale the pass's picture of its claimed rows may grow before it is checked again
RECHECK: Final = timedelta(seconds=1)
_UTC: Final = ZoneInfo("UTC")


@dataclass(frozen=True, slots=True)
class QuietHours:
    """The quiet hours as one claim sees them: promotions whose request would go at or after
    ``begin`` (the next quiet start after the claim; None: the shop has none) are held until
    they end. Transactional rows (replies, receipts) are never held."""

    begin: datetime | None = None
    tz: ZoneInfo = _UTC
    policy: ContactPolicy = field(default_factory=ContactPolicy)

    @classmethod
    def after(cls, claimed: datetime, tz: ZoneInfo, policy: ContactPolicy) -> QuietHours:
        return cls(quiet_from(claimed, tz, policy), tz, policy)

    def until(self, delivery: Delivery, now: datetime) -> datetime | None:
        """When ``delivery`` may go, if not ``now``: the end of the quiet hours ``now`` is in
        for a promotion once they began; None: it may go now."""
        if self.begin is None or now < self.begin or not delivery.rows[0].promotional:
            return None
        return next_send_time(now, self.tz, self.policy)


#: a pass that claims only transactional rows (the express pass of replies)
NO_QUIET: Final = QuietHours()


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
        quiet: QuietHours = NO_QUIET,
    ) -> None:
        self._uow = uow
        #: when the pass's promotions must stop (their claim's view of the quiet hours)
        self.quiet = quiet
        self._now = now
        self._every = every
        claimed = now()
        #: each row not sent yet, with when its claim checked it (one time object per claim):
        #: a recorded row leaves at once, so this holds the rows in hand and no more (the ids of
        #: every claim of the last ``every``, kept apart, were most of a fast campaign's sent
        #: rows' ids: bench/RESULTS.md, "Memory while broadcasting, sixth pass")
        self._unsent: dict[int, datetime] = dict.fromkeys((row.id for row in rows), claimed)
        self._gone: set[int] = set()
        self._next = claimed + every
        #: held while checking; shared with the dispatcher's claims and outcome writes (one
        #: connection for them all)
        self.lock = lock or asyncio.Lock()

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
        self._unsent.update(dict.fromkeys((row.id for row in rows), self._now()))

    def done(self, delivery: Delivery) -> None:
        """The outcome of ``delivery`` is recorded: its rows need no more checks."""
        unsent = self._unsent
        for row in delivery.rows:
            unsent.pop(row.id, None)

    async def _check(self) -> None:
        now = self._now()
        # rows their claim checked less than ``every`` ago need no second look yet
        since = now - self._every
        ids = {row_id for row_id, claimed in self._unsent.items() if claimed <= since}
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
        gone = (ids - kept) & self._unsent.keys()
        self._gone |= gone
        for row_id in gone:
            del self._unsent[row_id]
