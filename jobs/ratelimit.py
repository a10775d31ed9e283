"""The limiters that pace sends below each platform's rate limits, in one process.

They are built from the token buckets of :mod:`jobs.token_bucket` (with ``burst = 1`` sends
are evenly spaced ``1 / rate`` apart, so no window of one second ever holds more than ``rate``
of them) and learn of late arrivals from :mod:`jobs.arrival_window`. A budget of hundreds of
requests a second (LINE's endpoints) gets a burst of :data:`BURST_WINDOW` of its rate, and
refills that much slower (:func:`bucket_for`): one token per wake-up of the event loop would
cap it at the loop's wake-ups, and the replies released together by one commit would leave
one per loop iteration, waiting behind each other; a one-second window still holds at most
``rate`` of them. The dispatcher talks to
a :class:`SendLimiter` only, so a limiter shared by several processes (a PostgreSQL or Redis
one, for scale-out) can replace :class:`PlatformLimits` without touching it.

Telegram: about 30 messages a second per bot and one a second per chat (Bot API FAQ); the
default overall rate is a little lower (``TELEGRAM_RATE``) because network jitter bunches
requests on the way. LINE: per endpoint, push 2,000 and multicast 200 requests a second.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Protocol

from bot.config import Settings
from bot.core.capabilities import RateBudget, capabilities_of
from bot.core.messages import Channel
from bot.core.ports import NextTurn
from jobs.arrival_window import ROUND_TRIPS_KEPT, ArrivalWindow
from jobs.token_bucket import EPSILON, MAX_KEYED_BUCKETS, KeyedBuckets, Now, Sleep, TokenBucket

#: the names this module always offered (its importers keep working)
__all__ = [
    "EPSILON",
    "MAX_KEYED_BUCKETS",
    "ROUND_TRIPS_KEPT",
    "ArrivalWindow",
    "KeyedBuckets",
    "Now",
    "PlatformLimits",
    "SendLimiter",
    "Sleep",
    "TokenBucket",
    "Unlimited",
    "next_turn",
    "operator_budgets",
]


#: the share of a second's budget a bot-wide or endpoint bucket may spend at once (at least one)
BURST_WINDOW = 0.01


def bucket_for(
    rate: float, *, now: Now = time.monotonic, sleep: Sleep = asyncio.sleep
) -> TokenBucket:
    """A bucket that lets no window of one second hold more than ``rate`` takes: a burst of
    ``b`` (``rate`` × :data:`BURST_WINDOW`, at least 1) refilled at ``rate - (b - 1)``, so a
    second holds the ``b`` saved up and fewer than ``rate - b + 1`` refilled, as a bucket of
    burst 1 at ``rate`` does. Burst 1 at Telegram's rates (the bot's, the chats'): evenly
    spaced as before."""
    burst = max(1, int(rate * BURST_WINDOW))
    return TokenBucket(rate - (burst - 1), burst, now=now, sleep=sleep)


class SendLimiter(Protocol):
    """Paces the dispatcher's requests; see the module docstring.

    ``before_send`` returns when one request of ``kind`` (``push`` or ``multicast``) to
    ``chat`` carrying ``messages`` platform messages may go out (an ``urgent`` one, a reply
    someone waits for, before the others waiting); ``rest`` stops every request of
    ``channel`` for ``seconds`` (the platform answered 429 with ``retry_after``);
    ``answered``: the request to ``chat`` that went out after the last ``before_send`` for it
    was answered just now (not called for a request that failed), so the chat's next message
    is spaced from when it may have arrived.
    """

    async def before_send(
        self, channel: Channel, kind: str, chat: str, messages: int, *, urgent: bool = False
    ) -> None: ...

    def rest(self, channel: Channel, seconds: float) -> None: ...

    def answered(self, channel: Channel, chat: str) -> None: ...


def next_turn(
    limiter: SendLimiter, channel: Channel, kind: str, chat: str, *, urgent: bool = False
) -> NextTurn:
    """The wait before each further platform message of one request to ``chat`` (the caller
    waited for the first one's turn): the message before it was answered just now, which dates
    when it may have arrived (:meth:`SendLimiter.answered`), and the next one takes a turn of
    its own. The platform counts a chat's messages as they arrive, so messages sent back to
    back on turns taken together would reach the chat closer than its limit allows, and each
    takes a turn of the bot's budget, which counts messages, not requests."""

    async def turn() -> None:
        limiter.answered(channel, chat)
        await limiter.before_send(channel, kind, chat, 1, urgent=urgent)

    return turn


class Unlimited:
    """No pacing at all: unit tests with fake adapters, and the console."""

    async def before_send(
        self, channel: Channel, kind: str, chat: str, messages: int, *, urgent: bool = False
    ) -> None:
        return None

    def rest(self, channel: Channel, seconds: float) -> None:
        return None

    def answered(self, channel: Channel, chat: str) -> None:
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
        after, it would bring this message closer to the chat's next one). With no bot-wide
        bucket here the debts are left to whoever keeps the bot's pace (``SharedPace``)."""
        if self.sender is None or self.arrivals is None:
            return
        owed = self.arrivals.owed()
        if owed:
            self.sender.pause(owed / self.sender.rate)
            await self.sender.acquire(urgent=urgent)

    def answered(self, chat: str) -> None:
        quickest = self.arrivals.quickest() if self.arrivals is not None else None
        if self.chats is not None and quickest is not None:
            self.chats.answered(chat, quickest)

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
        bot-wide bucket gives up and whose quickest round trip dates a chat's message answered
        late (:meth:`answered`)."""
        arrivals = arrivals or {}

        # never more than ``rate`` in any one-second window, also right after a pause
        def bucket(rate: float | None) -> TokenBucket | None:
            return None if rate is None else bucket_for(rate, now=now, sleep=sleep)

        self._pacers = {
            channel: _Pacer(
                budget,
                bucket(budget.per_sender),
                None
                if budget.per_chat is None
                else KeyedBuckets(budget.per_chat, 1.0, now=now, sleep=sleep),
                {
                    kind: bucket_for(rate, now=now, sleep=sleep)
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

    def left(self, channel: Channel, chat: str) -> None:
        """A message to ``chat`` leaves now, later than its turn here (it also waited for a
        slot of a budget shared with other processes): the chat's next one is spaced from
        now."""
        pacer = self._pacers.get(channel)
        if pacer is not None and pacer.chats is not None:
            pacer.chats.left(chat)

    def answered(self, channel: Channel, chat: str) -> None:
        """A request to ``chat`` answered now: one answered slowly may have arrived late, and
        the chat's next message is spaced from then (:meth:`KeyedBuckets.answered`), not from
        when it left. A fast answer adds no wait."""
        pacer = self._pacers.get(channel)
        if pacer is not None:
            pacer.answered(chat)


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
