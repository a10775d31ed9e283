"""One drain pass's shared state, and how a fan-out pass keeps its requests in flight.

A channel that multicasts (LINE: 500 recipients a request, 200 requests a second) empties a
claim of a thousand rows in two requests, so a pass that claimed, sent and recorded one batch
at a time kept two requests in flight and left the rest of the allowed rate unused. For such
channels the pass claims a lane for each of its workers (a few: every lane holds a request's
rows in memory) and, while they send, a :class:`Feeder` claims the next rows whenever fewer
lanes wait than ``ahead`` — in a transaction of its own, with the pass's lease, for as long as
the claims come back full, the lease leaves time to send them and the pass is young enough
(``until``: the next pass claims other channels' rows too, which must not wait for a whole
campaign). Each worker still sends one request at a time and waits for its outcome to be
committed, so the requests in flight (and the window a crash can repeat, which LINE's retry
keys close) stay at ``concurrency`` or fewer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final

from bot import metrics
from bot.core.capabilities import ChannelCapabilities
from bot.core.messages import Channel
from jobs.delivery_plan import Delivery, plan
from jobs.dispatch_types import DrainResult
from jobs.send_check import SendCheck
from shop.withdrawal import Claimed
from storage.repositories.outbox import QueuedMessage
from storage.uow import UnitOfWorkFactory

log = logging.getLogger(__name__)

#: how long a fan-out pass claims more rows: then it ends, and the next pass claims the rows of
#: every channel again (a campaign's pass could otherwise feed itself for the whole lease while
#: other channels' rows wait for it to end)
FANOUT_PASS: Final = timedelta(seconds=5)
#: requests a fan-out pass keeps in flight: each holds a multicast's rows (500) in memory, and
#: more of them held more memory than they gained speed (bench/RESULTS.md)
FANOUT_WORKERS: Final = 4


@dataclass
class Pass:
    """The state of one drain pass shared by its workers."""

    result: DrainResult
    lease_end: datetime
    lanes: deque[list[Delivery]]
    stop: asyncio.Event | None
    check: SendCheck
    workers: int = 1
    #: lanes a fan-out pass keeps claimed beyond those its workers send
    ahead: int = 1
    #: rows to hand back at the end of the pass, with when they are due again
    held: list[tuple[QueuedMessage, datetime]] = field(default_factory=list)
    #: claims more rows while the pass runs (a fan-out pass); None: this pass's rows are all
    feeder: Feeder | None = None

    def add(self, claimed: Claimed, capabilities: Mapping[Channel, ChannelCapabilities]) -> None:
        """Rows claimed while the pass runs join its lanes and its send check."""
        self.lanes.extend(plan(claimed.messages, capabilities))
        self.check.add(claimed.messages)
        self.result.withdrawn += claimed.withdrawn

    async def next_lane(self) -> list[Delivery] | None:
        """The next lane to send; while a feeder claims more, waits for it when none is left.
        None: the pass has nothing more to send."""
        while True:
            if self.feeder is not None and len(self.lanes) < self.ahead:
                self.feeder.hungry()
            if self.lanes:
                return self.lanes.popleft()
            if self.feeder is None or self.feeder.finished:
                return None
            await self.feeder.fed()

    def count(self, channel: Channel, outcomes: list[str]) -> None:
        """Count each row's outcome in the result and the metrics."""
        for name, count in Counter(outcomes).items():  # a multicast's 500 rows: one call each
            setattr(self.result, name, getattr(self.result, name) + count)
            metrics.count_sends(channel.value, "outbox", name, count)

    @property
    def stopping(self) -> bool:
        return self.stop is not None and self.stop.is_set()

    async def release(self, uow: UnitOfWorkFactory) -> None:
        """Hand back the rows of this pass that were not sent, each due at its time."""
        if not self.held:
            return
        by_time: dict[datetime, list[int]] = {}
        for row, due in self.held:
            by_time.setdefault(due, []).append(row.id)
        async with uow() as work:
            for due, ids in by_time.items():
                await work.outbox.release(ids, due)
            await work.commit()
        self.result.released += len(self.held)
        self.held.clear()


class Feeder:
    """Claims rows for a pass whenever fewer lanes wait than ``ahead`` — ``lane`` rows (one
    request) for each lane missing, so that no more rows than ``workers + ahead`` requests are
    held at once; finishes on a claim that is not full, a stop, a failure, or when ``until``
    has passed. Its claims take turns with the pass's send checks and outcome writes (one
    connection for them all)."""

    def __init__(
        self,
        claim: Callable[[int], Awaitable[Claimed]],
        lane: int,
        until: datetime,
        now: Callable[[], datetime],
    ) -> None:
        self._claim = claim
        self._lane = lane
        self._until = until
        self._now = now
        self._hungry = asyncio.Event()
        self._fed = asyncio.Event()
        self.finished = False

    def hungry(self) -> None:
        self._hungry.set()

    async def fed(self) -> None:
        """Wait until the next claim is in the lanes (or the feeder finished)."""
        await self._fed.wait()

    def _wake(self) -> None:
        self._fed.set()
        self._fed = asyncio.Event()

    async def run(self, state: Pass, capabilities: Mapping[Channel, ChannelCapabilities]) -> None:
        try:
            while True:
                await self._hungry.wait()
                self._hungry.clear()
                missing = state.ahead - len(state.lanes)
                if missing <= 0:  # fed meanwhile: wait until they run low again
                    continue
                if state.stopping or self._now() >= self._until:
                    return
                size = missing * self._lane
                async with state.check.lock:
                    claimed = await self._claim(size)
                state.add(claimed, capabilities)
                self._wake()
                if len(claimed.messages) + claimed.withdrawn < size:
                    return
        except Exception:  # the database is away: the pass sends what it has
            log.exception("claiming more outbox rows for a fan-out failed")
        finally:
            self.finished = True
            self._wake()


async def run_workers(
    state: Pass,
    work: Callable[[Pass], Awaitable[None]],
    capabilities: Mapping[Channel, ChannelCapabilities],
) -> None:
    """``state.workers`` workers until the pass has nothing left, beside its feeder if any."""
    feeding = (
        asyncio.create_task(state.feeder.run(state, capabilities), name="outbox-feed")
        if state.feeder is not None
        else None
    )
    try:
        await asyncio.gather(*(work(state) for _ in range(state.workers)))
    finally:
        if feeding is not None:
            feeding.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await feeding
