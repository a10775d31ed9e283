"""Token buckets that pace sends below each platform's rate limits, in one process.

A :class:`TokenBucket` holds up to ``burst`` tokens and gains ``rate`` per second; taking one
waits until one is there. With ``burst = 1`` sends are evenly spaced ``1 / rate`` apart, so no
window of one second ever holds more than ``rate`` of them (the bucket waiters are served in
arrival order). The dispatcher talks to a :class:`SendLimiter` only, so a limiter shared by
several processes (a PostgreSQL or Redis one, for scale-out) can replace :class:`PlatformLimits`
without touching it.

Telegram: about 30 messages a second per bot and one a second per chat (Bot API FAQ); the
default overall rate is a little lower (``TELEGRAM_RATE``) because network jitter bunches
requests on the way. LINE: per endpoint, push 2,000 and multicast 200 requests a second.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Final, Protocol

from bot.config import Settings
from bot.core.messages import Channel

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

    def _refill(self) -> None:
        moment = self._now()
        self._tokens = min(self.burst, self._tokens + (moment - self._stamp) * self.rate)
        self._stamp = moment

    @property
    def full(self) -> bool:
        self._refill()
        return self._tokens >= self.burst and self._paused_until <= self._now()

    async def acquire(self, tokens: float = 1.0) -> None:
        """Wait until ``tokens`` (at most ``burst``) are there and take them."""
        tokens = min(tokens, self.burst)
        async with self._lock:
            while True:
                pause = self._paused_until - self._now()
                if pause > 0:
                    await self._sleep(pause)
                    continue
                self._refill()
                if self._tokens >= tokens - EPSILON:  # float dust must not mean another wait
                    self._tokens = max(self._tokens - tokens, 0.0)
                    return
                await self._sleep((tokens - self._tokens) / self.rate)

    def pause(self, seconds: float) -> None:
        """Take nothing for ``seconds`` (a platform said ``retry_after``); empties the bucket."""
        until = self._now() + max(seconds, 0.0)
        self._paused_until = max(self._paused_until, until)
        self._tokens = 0.0
        self._stamp = until


class KeyedBuckets:
    """One :class:`TokenBucket` per key (a chat), created on first use."""

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

    def bucket(self, key: str) -> TokenBucket:
        found = self._buckets.get(key)
        if found is None:
            if len(self._buckets) >= MAX_KEYED_BUCKETS:
                self._forget_idle()
            found = TokenBucket(self.rate, self.burst, now=self._now, sleep=self._sleep)
            self._buckets[key] = found
        return found

    async def acquire(self, key: str, tokens: float = 1.0) -> None:
        await self.bucket(key).acquire(tokens)

    def _forget_idle(self) -> None:
        # a full bucket behaves exactly like a new one, so dropping it changes nothing
        for key in [k for k, b in self._buckets.items() if b.full and not b._lock.locked()]:
            del self._buckets[key]

    def __len__(self) -> int:
        return len(self._buckets)


class SendLimiter(Protocol):
    """Paces the dispatcher's requests; see the module docstring.

    ``before_send`` returns when one request of ``kind`` (``push`` or ``multicast``) to
    ``chat`` carrying ``messages`` platform messages may go out; ``rest`` stops every request
    of ``channel`` for ``seconds`` (the platform answered 429 with ``retry_after``).
    """

    async def before_send(self, channel: Channel, kind: str, chat: str, messages: int) -> None: ...

    def rest(self, channel: Channel, seconds: float) -> None: ...


class Unlimited:
    """No pacing at all: unit tests with fake adapters, and the console."""

    async def before_send(self, channel: Channel, kind: str, chat: str, messages: int) -> None:
        return None

    def rest(self, channel: Channel, seconds: float) -> None:
        return None


class PlatformLimits:
    """Telegram: one bucket per chat, then the bot-wide one (one token per Bot API message);
    LINE: one bucket per endpoint (one token per request, whatever its recipients)."""

    def __init__(
        self,
        *,
        telegram_rate: float,
        telegram_chat_rate: float,
        line_push_rate: float,
        line_multicast_rate: float,
        now: Now = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        # burst 1: never more than ``rate`` in any one-second window, also right after a pause
        self.telegram = TokenBucket(telegram_rate, 1.0, now=now, sleep=sleep)
        self.telegram_chats = KeyedBuckets(telegram_chat_rate, 1.0, now=now, sleep=sleep)
        self.line = {
            "push": TokenBucket(line_push_rate, 1.0, now=now, sleep=sleep),
            "multicast": TokenBucket(line_multicast_rate, 1.0, now=now, sleep=sleep),
        }

    @classmethod
    def from_settings(cls, settings: Settings) -> PlatformLimits:
        return cls(
            telegram_rate=settings.telegram_rate,
            telegram_chat_rate=settings.telegram_chat_rate,
            line_push_rate=settings.line_push_rate,
            line_multicast_rate=settings.line_multicast_rate,
        )

    async def before_send(self, channel: Channel, kind: str, chat: str, messages: int) -> None:
        if channel is Channel.TELEGRAM:
            # each message of a row is its own Bot API call: take one token per message
            for _ in range(max(messages, 1)):
                await self.telegram_chats.acquire(chat)
                await self.telegram.acquire()
        elif channel is Channel.LINE:
            await self.line.get(kind, self.line["push"]).acquire()

    def rest(self, channel: Channel, seconds: float) -> None:
        if channel is Channel.TELEGRAM:
            self.telegram.pause(seconds)
        elif channel is Channel.LINE:
            for bucket in self.line.values():
                bucket.pause(seconds)
