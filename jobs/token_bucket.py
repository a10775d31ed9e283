"""Token buckets, one or one per key (a chat), that pace the sends of one process.

A :class:`TokenBucket` holds up to ``burst`` tokens and gains ``rate`` per second; taking one
waits until one is there. With ``burst = 1`` sends are evenly spaced ``1 / rate`` apart, so no
window of one second ever holds more than ``rate`` of them (the bucket waiters are served in
arrival order). :class:`KeyedBuckets` holds one per chat. The limiters built from them are in
:mod:`jobs.ratelimit`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Final

Now = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

EPSILON: Final = 1e-9
#: per-chat buckets kept at most; full (idle) ones are dropped beyond this
MAX_KEYED_BUCKETS: Final = 10_000


class TokenBucket:
    """``rate`` tokens a second, at most ``burst`` saved up; :meth:`acquire` waits its turn."""

    def __init__(
        self,
        rate: float,
        burst: float = 1.0,
        *,
        now: Now = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("a token bucket needs rate > 0 and burst >= 1")
        self.rate = rate
        self.burst = burst
        self._now = now
        self._sleep = sleep
        self._tokens = burst
        self._stamp = now()
        self._paused_until = 0.0
        self._lock = asyncio.Lock()  # FIFO: waiters are served in the order they came
        self._urgent = 0  # urgent takers waiting now

    def _refill(self) -> None:
        moment = self._now()
        self._tokens = min(self.burst, self._tokens + (moment - self._stamp) * self.rate)
        self._stamp = moment

    @property
    def full(self) -> bool:
        self._refill()
        return self._tokens >= self.burst and self._paused_until <= self._now()

    async def acquire(self, tokens: float = 1.0, *, urgent: bool = False) -> None:
        """Wait until ``tokens`` (at most ``burst``) are there and take them.

        An ``urgent`` taker (a reply someone is waiting for) goes before every waiting
        ordinary one: those hold back while it waits. Every token still comes out of the one
        bucket, so the rate holds whoever takes it.
        """
        tokens = min(tokens, self.burst)
        if urgent:
            self._urgent += 1
            try:
                await self._take(tokens, urgent=True)
            finally:
                self._urgent -= 1
            return
        async with self._lock:
            await self._take(tokens, urgent=False)

    async def _take(self, tokens: float, *, urgent: bool) -> None:
        while True:
            pause = self._paused_until - self._now()
            if pause > 0:
                await self._sleep(pause)
                continue
            self._refill()
            enough = self._tokens >= tokens - EPSILON  # float dust must not mean another wait
            if enough and (urgent or self._urgent == 0):
                self._tokens = max(self._tokens - tokens, 0.0)
                return
            await self._sleep(max(tokens - self._tokens, EPSILON) / self.rate)

    @property
    def busy(self) -> bool:
        """Someone is waiting for a token."""
        return self._lock.locked() or self._urgent > 0

    async def unpaused(self) -> None:
        """Wait out a :meth:`pause`, taking nothing."""
        while (pause := self._paused_until - self._now()) > 0:
            await self._sleep(pause)

    def pause(self, seconds: float) -> None:
        """Take nothing for ``seconds`` (a platform said ``retry_after``); empties the bucket."""
        until = self._now() + max(seconds, 0.0)
        self._paused_until = max(self._paused_until, until)
        self._tokens = 0.0
        self._stamp = until


class KeyedBuckets:
    """One :class:`TokenBucket` per key (a chat), created on first use, and when each key's
    last message left, or may have arrived (:meth:`left`, :meth:`answered`, :meth:`spaced`)."""

    def __init__(
        self,
        rate: float,
        burst: float = 1.0,
        *,
        now: Now = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.rate, self.burst = rate, burst
        self._now, self._sleep = now, sleep
        self._buckets: dict[str, TokenBucket] = {}
        self._left: dict[str, float] = {}

    def bucket(self, key: str) -> TokenBucket:
        found = self._buckets.get(key)
        if found is None:
            if len(self._buckets) >= MAX_KEYED_BUCKETS:
                self._forget_idle()
            found = TokenBucket(self.rate, self.burst, now=self._now, sleep=self._sleep)
            self._buckets[key] = found
        return found

    async def acquire(self, key: str, tokens: float = 1.0, *, urgent: bool = False) -> None:
        await self.bucket(key).acquire(tokens, urgent=urgent)

    def left(self, key: str) -> None:
        """A message to ``key`` leaves now."""
        self._left[key] = self._now()

    def answered(self, key: str, quickest: float) -> None:
        """The last message to ``key`` was answered now, ``quickest`` being the quickest recent
        round trip. It may have arrived as late as ``quickest`` before now: the platform counts
        a chat's messages as they arrive, so the next one is spaced from then if that is later
        than when it left (a slow round trip: a busy machine, a stalled loop, the network). A
        round trip no slower than the quickest moves nothing; a forgotten key stays forgotten.
        """
        last = self._left.get(key)
        if last is not None:
            self._left[key] = max(last, self._now() - quickest)

    async def spaced(self, key: str) -> bool:
        """Wait until ``key``'s last message left (or may have arrived, :meth:`answered`) a gap
        (``1 / rate``) ago; True if it had to.

        A key's turns are spaced as they are taken, but a message may wait after its turn (for
        the bot's, behind other chats' messages or a pause): the next one's turn, taken on
        time, would then leave close behind it.
        """
        last = self._left.get(key)
        if last is None or self.burst > 1:
            return False
        early = last + 1.0 / self.rate - self._now()
        if early <= EPSILON:
            return False
        await self._sleep(early)
        return True

    def _forget_idle(self) -> None:
        # a full bucket whose last message left a gap ago behaves exactly like a new one, so
        # dropping it changes nothing
        moment, gap = self._now(), 1.0 / self.rate
        for key in [
            k
            for k, b in self._buckets.items()
            if b.full and not b.busy and self._left.get(k, moment - gap) <= moment - gap
        ]:
            del self._buckets[key]
            self._left.pop(key, None)

    def __len__(self) -> int:
        return len(self._buckets)
