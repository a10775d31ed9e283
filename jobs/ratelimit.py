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
import contextlib
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from typing import Final, Protocol

from bot.config import Settings
from bot.core.capabilities import RateBudget, capabilities_of
from bot.core.messages import Channel

Now = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

EPSILON: Final = 1e-9
#: per-chat buckets kept at most; full (idle) ones are dropped beyond this
MAX_KEYED_BUCKETS: Final = 10_000
#: the round trips an :class:`ArrivalWindow` takes its quickest from
ROUND_TRIPS_KEPT: Final = 64


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
    last message left (:meth:`left`, :meth:`spaced`)."""

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

    async def spaced(self, key: str) -> bool:
        """Wait until ``key``'s last message left a gap (``1 / rate``) ago; True if it had to.

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

    def owed(self) -> int:
        """The slots to give up now (each counted once: whoever asks pays them)."""
        moment = self._now()
        owed = sum(1 for until in self._debts if until > moment)
        self._debts.clear()
        return owed


class SendLimiter(Protocol):
    """Paces the dispatcher's requests; see the module docstring.

    ``before_send`` returns when one request of ``kind`` (``push`` or ``multicast``) to
    ``chat`` carrying ``messages`` platform messages may go out (an ``urgent`` one, a reply
    someone waits for, before the others waiting); ``rest`` stops every request of
    ``channel`` for ``seconds`` (the platform answered 429 with ``retry_after``).
    """

    async def before_send(
        self, channel: Channel, kind: str, chat: str, messages: int, *, urgent: bool = False
    ) -> None: ...

    def rest(self, channel: Channel, seconds: float) -> None: ...


class Unlimited:
    """No pacing at all: unit tests with fake adapters, and the console."""

    async def before_send(
        self, channel: Channel, kind: str, chat: str, messages: int, *, urgent: bool = False
    ) -> None:
        return None

    def rest(self, channel: Channel, seconds: float) -> None:
        return None


@dataclass(frozen=True, slots=True)
class _Pacer:
    """The buckets of one channel, built from its :class:`RateBudget`."""

    budget: RateBudget
    sender: TokenBucket | None
    chats: KeyedBuckets | None
    endpoints: dict[str, TokenBucket]
    arrivals: ArrivalWindow | None = None

    async def before_send(self, kind: str, chat: str, messages: int, urgent: bool) -> None:
        # per message, each is its own platform call; else one token per request
        for _ in range(max(messages, 1) if self.budget.per_message else 1):
            await self._pay_owed(urgent)
            if self.chats is None:
                await self._bot_turn(kind, urgent)
                continue
            if self.sender is not None:
                # a chat's turns taken during a pause (after a 429) would all leave at its end
                await self.sender.unpaused()
            await self.chats.acquire(chat, urgent=urgent)
            await self._bot_turn(kind, urgent)
            while await self.chats.spaced(chat):  # the bot's turn taken goes unused
                await self._bot_turn(kind, urgent)
            self.chats.left(chat)

    async def _bot_turn(self, kind: str, urgent: bool) -> None:
        if self.sender is not None:
            await self.sender.acquire(urgent=urgent)
        endpoint = self.endpoints.get(kind) or self._default_endpoint()
        if endpoint is not None:
            await endpoint.acquire(urgent=urgent)

    async def _pay_owed(self, urgent: bool) -> None:
        """Give up the bot's slots owed for requests that arrived late: a pause of that many
        gaps, and its end waited out here, before this message takes its chat's turn (waited
        after, it would bring this message closer to the chat's next one)."""
        owed = self.arrivals.owed() if self.arrivals is not None else 0
        if owed and self.sender is not None:
            self.sender.pause(owed / self.sender.rate)
            await self.sender.acquire(urgent=urgent)

    def _default_endpoint(self) -> TokenBucket | None:
        return next(iter(self.endpoints.values()), None)

    def rest(self, seconds: float) -> None:
        # the chats' own buckets keep their pace: the platform stopped the bot, not a chat
        for bucket in (self.sender, *self.endpoints.values()):
            if bucket is not None:
                bucket.pause(seconds)


class PlatformLimits:
    """One set of buckets per channel from its :class:`~bot.core.capabilities.RateBudget`:
    per chat, then bot-wide, then per endpoint, each as the budget says (Telegram: per chat and
    bot-wide, a token per message; LINE: per endpoint, a token per request)."""

    def __init__(
        self,
        budgets: Mapping[Channel, RateBudget],
        *,
        arrivals: Mapping[Channel, ArrivalWindow] | None = None,
        now: Now = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        """``arrivals``: the channels' adapters' :class:`ArrivalWindow`, whose owed slots the
        bot-wide bucket gives up."""
        arrivals = arrivals or {}

        # burst 1: never more than ``rate`` in any one-second window, also right after a pause
        def bucket(rate: float | None) -> TokenBucket | None:
            return None if rate is None else TokenBucket(rate, 1.0, now=now, sleep=sleep)

        self._pacers = {
            channel: _Pacer(
                budget,
                bucket(budget.per_sender),
                None
                if budget.per_chat is None
                else KeyedBuckets(budget.per_chat, 1.0, now=now, sleep=sleep),
                {
                    kind: TokenBucket(rate, 1.0, now=now, sleep=sleep)
                    for kind, rate in budget.per_endpoint
                },
                arrivals.get(channel),
            )
            for channel, budget in budgets.items()
        }

    @classmethod
    def from_settings(
        cls, settings: Settings, arrivals: Mapping[Channel, ArrivalWindow] | None = None
    ) -> PlatformLimits:
        """The budgets the operator set (``TELEGRAM_RATE``, ``LINE_PUSH_RATE``, …) in the
        shape each channel's capabilities declare."""
        return cls(operator_budgets(settings), arrivals=arrivals)

    async def before_send(
        self, channel: Channel, kind: str, chat: str, messages: int, *, urgent: bool = False
    ) -> None:
        pacer = self._pacers.get(channel)
        if pacer is not None:
            await pacer.before_send(kind, chat, messages, urgent)

    def rest(self, channel: Channel, seconds: float) -> None:
        pacer = self._pacers.get(channel)
        if pacer is not None:
            pacer.rest(seconds)


def operator_budgets(settings: Settings) -> dict[Channel, RateBudget]:
    """Each channel's declared :class:`RateBudget` with the rates the settings give (the
    defaults stay a little below the platform's, for network jitter)."""
    telegram = capabilities_of(Channel.TELEGRAM).rates
    line = capabilities_of(Channel.LINE).rates
    return {
        Channel.TELEGRAM: replace(
            telegram, per_sender=settings.telegram_rate, per_chat=settings.telegram_chat_rate
        ),
        Channel.LINE: replace(
            line,
            per_endpoint=(
                ("push", settings.line_push_rate),
                ("multicast", settings.line_multicast_rate),
            ),
        ),
    }
