"""The arrival window: requests timed from leaving to answer, for the limiters of
:mod:`jobs.ratelimit`, which pace them as they leave while the platform counts them as they
arrive."""

from __future__ import annotations

import contextlib
import time
from collections import deque
from collections.abc import AsyncIterator
from typing import Final

from jobs.token_bucket import Now

#: the round trips an :class:`ArrivalWindow` takes its quickest from
ROUND_TRIPS_KEPT: Final = 64


class ArrivalWindow:
    """Keeps a stall on the way to the platform from crowding its window.

    The buckets space requests as they *leave*; the platform counts them as they *arrive*. A
    stall on the way (a busy machine, the network) delivers several spaced requests together:
    each late one now counts in the windows of the second after it, beside the requests that
    go on time there, and the second holds one more than the pace put in it for every late
    request — over the limit, a 429, and the whole bot stops for ``retry_after``.

    The channel's adapter times every request it sends (:meth:`turn`). One that took more
    than ``tolerance`` longer than the quickest of the recent ones (the network's own round
    trip, whatever it is, is not lateness; the tolerance is what the pace's margin under the
    limit absorbs) makes this process *owe* a slot: the limiter gives up its next slot
    (:meth:`owed`), and an unused slot between the late request's answer and a second after it
    left lies in every window the late request was carried into. So a second holds no more
    than the pace put in it, also when several processes share the pace: each gives up its own
    slots for its own late requests. A debt not paid within that second has lapsed (nothing of
    this process went there). On time, and on a slow but steady network, nothing is owed.

    A chat's own limit is kept the same way by its limiter, from :meth:`quickest`: a message
    answered late may have arrived as late as the quickest round trip before its answer, and
    the chat's next one is spaced from then (:meth:`~jobs.token_bucket.KeyedBuckets.answered`).
    """

    def __init__(
        self,
        tolerance: float,
        seconds: float = 1.0,
        *,
        now: Now = time.monotonic,
    ) -> None:
        if tolerance < 0 or seconds <= 0:
            raise ValueError("an arrival window needs tolerance >= 0 and seconds > 0")
        self.tolerance, self.seconds = tolerance, seconds
        self._now = now
        self._round_trips: deque[float] = deque(maxlen=ROUND_TRIPS_KEPT)
        self._debts: deque[float] = deque()  # until when each may be paid

    @contextlib.asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        """Time one request, from when it leaves until it is answered. A request that failed
        is not looked at: it may never have arrived, or be the network's failure."""
        left = self._now()
        yield
        answered = self._now()
        self._round_trips.append(answered - left)
        if answered - left - min(self._round_trips) > self.tolerance:
            self._debts.append(left + self.seconds)

    def quickest(self) -> float | None:
        """The quickest of the recent round trips (none timed yet: None): the network's own,
        with no lateness in it."""
        return min(self._round_trips, default=None)

    def owed(self) -> int:
        """The slots to give up now (each counted once: whoever asks pays them)."""
        moment = self._now()
        owed = sum(1 for until in self._debts if until > moment)
        self._debts.clear()
        return owed
