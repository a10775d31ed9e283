"""One send budget for every ``serve`` process: slots claimed in the database.

For a channel budgeted per bot and per chat in platform messages (Telegram), every message
claims its slot in ``send_pace`` (:mod:`storage.repositories.pace`): the bot's next free
moment, spaced ``1 / rate`` apart, once the chat is free. A follower's replies and the
leader's broadcast thus stay within one budget together, and each chat's. The messages waiting
in one process claim their slots together, one claim at a time (a claim waits for the
bot's row lock, so one per message would cap the rate at the database's turnaround on a hot
row). The slots queue up in the database, so the pace is the rate however late a claim comes;
an urgent message (a reply) waits behind the slots already claimed, a fraction of a second. A
slot used late is given up for a new one: its message would go out close behind the slot after
it, and the margin under the platform's limit (``TELEGRAM_RATE`` 28 of Telegram's 30) is what
absorbs lateness and the network's jitter. A message that missed its slot that often
(:data:`MAX_MISSED`) goes late rather than wait on, and pays for it as a late arrival does:
one slot claimed and left unused, for the windows it is carried into (its chat's next message
is spaced from when it left). For a message the platform answered so late that it may have
arrived together with later ones this process claims one slot more and leaves it unused
(:class:`~jobs.ratelimit.ArrivalWindow`), and the chat's next message is spaced from when it
may have arrived (:meth:`~jobs.ratelimit.PlatformLimits.answered`, in-process).
In-process, per-chat buckets keep this process's messages to one chat in order and put replies
first, and the channels budgeted per endpoint (LINE: thousands of requests a second) are paced
in-process as :class:`~jobs.ratelimit.PlatformLimits` does. A ``retry_after`` holds the bot's
slots in every process.

A claim dates its slots ahead of when it begins by the recent claims' turnaround
(:class:`_Lead`): a slot dated when the claim began is already that old when its answer
comes, and at a rate whose gap is shorter than the turnaround (a busy database, or rates of
many a second) it was missed every time, claimed again and paid for with an unused one.
Dated ahead, the slot comes about when its answer does and the message waits for it as for
any slot in the future: no message leaves before its slot, and the slots keep their spacing.

The server uses it on PostgreSQL, where several processes may serve one shop; on SQLite one
process serves it and the in-process limiter is the whole budget.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import replace
from typing import Final

from bot.core.capabilities import RateBudget
from bot.core.messages import Channel
from jobs.ratelimit import ArrivalWindow, Now, PlatformLimits, Sleep, TokenBucket
from storage.repositories.pace import BareClaims, Slot
from storage.uow import UnitOfWorkFactory

log = logging.getLogger(__name__)

#: rows of chats idle this long are dropped, every :data:`CLEAN_EVERY` claims
IDLE_SECONDS: Final = 3600.0
CLEAN_EVERY: Final = 5000
#: a slot missed by more than this many gaps is not used (see the module doc), at most
#: ``MAX_MISSED`` times for one message
LATE_GAPS: Final = 1.0
MAX_MISSED: Final = 2
#: nor is a slot missed by less than this, whatever the rate: at a rate above a hundred a
#: second a gap is shorter than the event loop's and the claim's own turnaround, and every slot
#: would be missed and claimed again. A second then holds at most 1% more than the rate, which
#: the margin under the platform's limit absorbs as it absorbs a late slot at Telegram's rates
#: (their gaps, 33 ms and more, are longer than this)
LATE_AT_LEAST: Final = 0.01
#: how much faster than the slots a process's sends may leave, to catch up after a stall
CATCH_UP: Final = 1.25
#: the most messages one claim takes slots for
CLAIM_BATCH: Final = 64
#: the recent claims whose turnaround dates the next one's slots ahead (see the module doc),
#: and the most it dates them ahead: a claim slower than that is a database in trouble, whose
#: slots are missed and claimed again as before rather than a message kept waiting longer
TURNAROUNDS_KEPT: Final = 15
MAX_LEAD: Final = 0.1


class _Lead:
    """How far ahead of its beginning a claim dates its slots: the upper quartile of the recent
    claims' turnarounds (none yet: not ahead), at most :data:`MAX_LEAD`. A slot that comes
    before its answer costs its message the wait, one missed costs it another claim, so the
    quartile above the median; not the slowest, so one stalled claim does not keep the
    messages after it waiting."""

    def __init__(self) -> None:
        self._took: deque[float] = deque(maxlen=TURNAROUNDS_KEPT)

    def ahead(self) -> float:
        if not self._took:
            return 0.0
        return min(sorted(self._took)[len(self._took) * 3 // 4], MAX_LEAD)

    def took(self, seconds: float) -> None:
        self._took.append(max(seconds, 0.0))  # a wall clock set back is no negative turnaround


class _Claims:
    """The slot claims of one channel in this process: the messages waiting while a claim runs
    share the next one (see the module doc). A caller that gives up drops out of its batch; a
    slot already claimed for it goes unused."""

    def __init__(
        self,
        claim: Callable[[list[str | None]], Awaitable[list[Slot]]],
        holding: Callable[[], AbstractAsyncContextManager[None]] = contextlib.nullcontext,
    ) -> None:
        """``holding``: around each run of claims one after the other (PostgreSQL: they share
        a connection, :meth:`storage.repositories.pace.BareClaims.holding`)."""
        self._claim = claim
        self._holding = holding
        self._asks: list[tuple[str | None, asyncio.Future[Slot]]] = []
        self._task: asyncio.Task[None] | None = None

    async def slot(self, chat: str | None) -> Slot:
        return await self.ask(chat)

    def ask(self, chat: str | None) -> asyncio.Future[Slot]:
        """The slot's answer to come: asks made one after the other, before anything is
        awaited, go in one claim, in that order (at most :data:`CLAIM_BATCH` to a claim)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Slot] = loop.create_future()
        self._asks.append((chat, future))
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._run())
            self._task.add_done_callback(self._abandon)
        return future

    def _abandon(self, task: asyncio.Task[None]) -> None:
        # cancelled (shutdown), even before it ran: nobody may wait for an answer that will not
        # come. A task that ended normally left nobody waiting, and whoever asked since then
        # is the next task's.
        if task.cancelled() and task is self._task:
            for _, future in self._asks:
                future.cancel()
            self._asks.clear()

    async def _run(self) -> None:
        asks: list[tuple[str | None, asyncio.Future[Slot]]] = []
        try:
            # asked while the hold was let go (it awaits): this task is not done yet, so no
            # other task was started for them, and they are this one's
            while self._asks:
                async with self._holding():
                    while self._asks:
                        asks = [ask for ask in self._asks[:CLAIM_BATCH] if not ask[1].done()]
                        del self._asks[:CLAIM_BATCH]
                        if asks:
                            await self._answer(asks)
        finally:  # cancelled while claiming: the batch learns it (the rest, in ``_abandon``)
            for _, future in asks:
                future.cancel()

    async def _answer(self, asks: list[tuple[str | None, asyncio.Future[Slot]]]) -> None:
        try:
            slots = await self._claim([chat for chat, _ in asks])
        except Exception as error:  # every caller in the batch learns of it
            for _, future in asks:
                if not future.done():
                    future.set_exception(error)
            return
        for (_, future), slot in zip(asks, slots, strict=True):
            if not future.done():
                future.set_result(slot)


class SharedPace:
    """A :class:`~jobs.ratelimit.SendLimiter` whose per-bot and per-chat budgets are shared
    through the database; see the module docstring."""

    def __init__(
        self,
        budgets: Mapping[Channel, RateBudget],
        uow: UnitOfWorkFactory,
        *,
        arrivals: Mapping[Channel, ArrivalWindow] | None = None,
        now: Now = time.time,  # wall time: every process, on every host, reads the same
        sleep: Sleep = asyncio.sleep,
        local_now: Now = time.monotonic,
    ) -> None:
        """``arrivals``: the adapters' :class:`~jobs.ratelimit.ArrivalWindow`, whose owed slots
        this process claims and leaves unused; ``local_now``: the clock of the in-process
        buckets."""
        arrivals = arrivals or {}
        self._shared = {
            channel: budget
            for channel, budget in budgets.items()
            if budget.per_sender is not None and budget.per_message
        }
        # the bot's budget is the database's; in-process, the chats' order and priority
        local = {
            channel: replace(budget, per_sender=None) if channel in self._shared else budget
            for channel, budget in budgets.items()
        }
        self._arrivals = {c: w for c, w in arrivals.items() if c in self._shared}
        # the local limits date a chat's late answers from every window; the owed slots of a
        # shared channel are claimed here (with no bot-wide bucket, the local ones leave them)
        self._local = PlatformLimits(local, arrivals=arrivals, now=local_now, sleep=sleep)
        # and this process's own sends spaced as they leave, after the wait for the slot: a
        # stall that wakes several waiters at once then cannot send them together; a little
        # faster than the slots, so the sends catch up with them after a stall
        self._leaving = {
            channel: TokenBucket(
                (budget.per_sender or 1.0) * CATCH_UP, 1.0, now=local_now, sleep=sleep
            )
            for channel, budget in self._shared.items()
        }
        self._uow = uow
        self._now = now
        self._sleep = sleep
        self._claims = 0
        self._batches = {
            channel: self._claims_of(channel, budget) for channel, budget in self._shared.items()
        }
        self._holding: set[asyncio.Task[None]] = set()

    async def before_send(
        self, channel: Channel, kind: str, chat: str, messages: int, *, urgent: bool = False
    ) -> None:
        await self._local.before_send(channel, kind, chat, messages, urgent=urgent)
        budget = self._shared.get(channel)
        if budget is None:
            return
        for _ in range(max(messages, 1)):
            await self._claim(channel, chat, budget, urgent)
            self._local.left(channel, chat)  # it leaves after the slot, not the chat's turn

    async def _claim(self, channel: Channel, chat: str, budget: RateBudget, urgent: bool) -> None:
        assert budget.per_sender is not None
        late = max(LATE_GAPS / budget.per_sender, LATE_AT_LEAST)
        chat_key = None if budget.per_chat is None else f"{channel.value}:{chat}"
        claims = self._batches[channel]
        arrivals = self._arrivals.get(channel)
        # for late arrivals: slots nobody uses, asked for just before this message's own, so
        # they go in its claim, ahead of it (not a claim of their own first)
        unused = [claims.ask(None) for _ in range(arrivals.owed() if arrivals is not None else 0)]
        try:
            await self._take(channel, claims, chat_key, late, urgent, unused)
        finally:  # gave up or failed: the unused slots are not waited for
            for future in unused:
                if future.done() and not future.cancelled():
                    future.exception()  # the claim's error, if any, has reached this message
                else:
                    future.cancel()

    async def _take(
        self,
        channel: Channel,
        claims: _Claims,
        chat_key: str | None,
        late: float,
        urgent: bool,
        unused: list[asyncio.Future[Slot]],
    ) -> None:
        missed = 0
        while True:
            slot = await claims.ask(chat_key)
            if unused:  # answered by now, by this claim or one before it; a failure raises
                await asyncio.gather(*unused)
                unused.clear()
            wait = slot.at - self._now()
            if not slot.granted:
                await self._sleep(max(wait, 0.01))  # the chat is busy until then
                continue
            if wait > 0:
                await self._sleep(wait)
            await self._leaving[channel].acquire(urgent=urgent)
            if self._now() - slot.at <= late:
                return
            if missed >= MAX_MISSED:
                # used late, it joins the slots of others after it: an unused one pays for it
                await claims.slot(None)
                return
            missed += 1

    def _claims_of(self, channel: Channel, budget: RateBudget) -> _Claims:
        """The channel's claims: on PostgreSQL on a pooled connection, no unit of work (one
        statement, see :class:`~storage.repositories.pace.BareClaims`), shared by the claims of
        a run; on SQLite in a unit of work."""
        bare = self._uow.bare_claims()
        claim = self._batch_claim(channel, budget, bare)
        return _Claims(claim) if bare is None else _Claims(claim, bare.holding)

    def _batch_claim(
        self, channel: Channel, budget: RateBudget, bare: BareClaims | None
    ) -> Callable[[list[str | None]], Awaitable[list[Slot]]]:
        assert budget.per_sender is not None
        sender_gap = 1.0 / budget.per_sender
        chat_gap = 0.0 if budget.per_chat is None else 1.0 / budget.per_chat

        lead = _Lead()

        async def claim(chats: list[str | None]) -> list[Slot]:
            began = self._now()
            at = began + lead.ahead()  # see the module doc
            if bare is not None:
                slots = await bare.claim_many(channel.value, chats, at, sender_gap, chat_gap)
            else:
                async with self._uow.autocommitting() as uow:
                    slots = await uow.pace.claim_many(
                        channel.value, chats, at, sender_gap, chat_gap
                    )
                    await uow.commit()
            lead.took(self._now() - began)
            await self._clean(began, len(chats))
            return slots

        return claim

    async def _clean(self, now: float, claimed: int) -> None:
        before, self._claims = self._claims, self._claims + claimed
        if before // CLEAN_EVERY != self._claims // CLEAN_EVERY:
            async with self._uow.autocommitting() as uow:  # one statement too
                await uow.pace.forget_before(now - IDLE_SECONDS)
                await uow.commit()

    def answered(self, channel: Channel, chat: str) -> None:
        """The chats' order is kept in-process: :meth:`PlatformLimits.answered`."""
        self._local.answered(channel, chat)

    def rest(self, channel: Channel, seconds: float) -> None:
        self._local.rest(channel, seconds)
        leaving = self._leaving.get(channel)
        if leaving is not None:
            leaving.pause(seconds)
        if channel in self._shared:
            until = self._now() + max(seconds, 0.0)
            task = asyncio.get_running_loop().create_task(self._hold(channel, until))
            self._holding.add(task)
            task.add_done_callback(self._holding.discard)

    async def _hold(self, channel: Channel, until: float) -> None:
        try:
            async with self._uow() as uow:
                await uow.pace.hold(channel.value, until)
                await uow.commit()
        except Exception:  # this process rests anyway; the others learn of it by their own 429
            log.exception("could not share the %s rest with the other processes", channel)
