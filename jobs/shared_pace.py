"""One send budget for every ``serve`` process: slots claimed in the database.

For a channel budgeted per bot and per chat in platform messages (Telegram), every message
claims its slot in ``send_pace`` (:mod:`storage.repositories.pace`): the bot's next free
moment, spaced ``1 / rate`` apart, once the chat is free. A follower's replies and the
leader's broadcast thus stay within one budget together, and each chat's. The slots queue up
in the database, so the pace is exactly the rate however late a claim comes; an urgent
message (a reply) waits behind the slots already claimed, at most one per sender in flight
(the dispatcher's ``concurrency``: a fraction of a second). In-process, per-chat buckets keep
this process's messages to one chat in order and put replies first, and the channels budgeted
per endpoint (LINE: thousands of requests a second) are paced in-process as
:class:`~jobs.ratelimit.PlatformLimits` does. A ``retry_after`` holds the bot's slots in every
process.

The server uses it on PostgreSQL, where several processes may serve one shop; on SQLite one
process serves it and the in-process limiter is the whole budget.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import replace
from typing import Final

from bot.core.capabilities import RateBudget
from bot.core.messages import Channel
from jobs.ratelimit import Now, PlatformLimits, Sleep
from storage.repositories.pace import Slot
from storage.uow import UnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)

#: rows of chats idle this long are dropped, every :data:`CLEAN_EVERY` claims
IDLE_SECONDS: Final = 3600.0
CLEAN_EVERY: Final = 5000
#: a slot missed by more than this many gaps is not used (see ``_claim``), at most
#: ``MAX_MISSED`` times for one message
LATE_GAPS: Final = 2.0
MAX_MISSED: Final = 2


class SharedPace:
    """A :class:`~jobs.ratelimit.SendLimiter` whose per-bot and per-chat budgets are shared
    through the database; see the module docstring."""

    def __init__(
        self,
        budgets: Mapping[Channel, RateBudget],
        uow: UnitOfWorkFactory,
        *,
        now: Now = time.time,  # wall time: every process, on every host, reads the same
        sleep: Sleep = asyncio.sleep,
    ) -> None:
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
        self._local = PlatformLimits(local, sleep=sleep)
        self._uow = uow
        self._now = now
        self._sleep = sleep
        self._claims = 0
        self._holding: set[asyncio.Task[None]] = set()

    async def before_send(
        self, channel: Channel, kind: str, chat: str, messages: int, *, urgent: bool = False
    ) -> None:
        await self._local.before_send(channel, kind, chat, messages, urgent=urgent)
        budget = self._shared.get(channel)
        if budget is None:
            return
        for _ in range(max(messages, 1)):
            await self._claim(channel, chat, budget)

    async def _claim(self, channel: Channel, chat: str, budget: RateBudget) -> None:
        assert budget.per_sender is not None
        sender_gap = 1.0 / budget.per_sender
        chat_key = None if budget.per_chat is None else f"{channel.value}:{chat}"
        chat_gap = 0.0 if budget.per_chat is None else 1.0 / budget.per_chat
        missed = 0
        while True:
            # a caller giving up (a reply that waited too long) must not cut a transaction
            # holding the bot's row lock short: the claim finishes, its slot goes unused
            claim = self._claim_once(channel.value, chat_key, sender_gap, chat_gap)
            slot = await asyncio.shield(claim)
            wait = slot.at - self._now()
            if not slot.granted:
                await self._sleep(max(wait, 0.01))  # the chat is busy until then
                continue
            if wait > 0:
                await self._sleep(wait)
            # a slot left behind by a stall (this process was busy) would go out together
            # with the slots after it, over the rate in that second: claim a new one instead
            if self._now() - slot.at <= LATE_GAPS * sender_gap or missed >= MAX_MISSED:
                return
            missed += 1

    async def _claim_once(
        self, sender: str, chat: str | None, sender_gap: float, chat_gap: float
    ) -> Slot:
        now = self._now()
        async with self._uow() as uow:
            slot = await uow.pace.claim(sender, chat, now, sender_gap, chat_gap)
            await self._clean(uow, now)
            await uow.commit()
        return slot

    async def _clean(self, uow: UnitOfWork, now: float) -> None:
        self._claims += 1
        if self._claims % CLEAN_EVERY == 0:
            await uow.pace.forget_before(now - IDLE_SECONDS)

    def rest(self, channel: Channel, seconds: float) -> None:
        self._local.rest(channel, seconds)
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
