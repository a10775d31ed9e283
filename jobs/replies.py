"""Direct replies: sent at once within the channel's budget, or queued, never lost.

The replies to an inbound event go out after the bus's commit: the adapter hands them to
:meth:`ReplyCourier.deliver` with a function that sends one unit (Telegram: one reply; LINE:
all of them, with the reply token). Each unit waits its turn in the same
:class:`~jobs.ratelimit.SendLimiter` as the outbox dispatcher's rows, before them (``urgent``:
a person is waiting), for at most ``wait_limit`` seconds, so replies and broadcasts together
stay within the per-bot and per-chat limits. What cannot go out that way is written to the
outbox as an urgent row (:data:`~storage.repositories.outbox.URGENT`), which the dispatcher's
express pass sends ahead of any broadcast row, retrying it as it retries every row:

- the turn did not come within ``wait_limit`` (a burst of replies to one chat): due now;
- the platform answered 429: due after its ``retry_after``, and the channel rests that long;
- a network error or a 5xx: due after the first back-off step;
- earlier replies to the same chat are still queued: queued behind them, so the order holds;
- the platform refused the bot's own token (a 401, :mod:`jobs.credentials`): due after a short
  rest, and sent once ``serve`` runs with the right token (named in the log, once).

On a channel with retry keys (LINE) the queued row carries the key the direct send used, so
its retry is the same request to the platform, refused as a repeat when the direct send was
accepted but its answer lost: one key per message for its whole life.

A permanent refusal (a 400) is recorded as a ``failed`` row, so a reply that can never arrive
is still on record. A recipient who blocked the bot is the adapter's to handle (it marks them
unreachable): :class:`RecipientUnreachable` is raised.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Final

from bot import metrics
from bot.core.clock import Clock
from bot.core.errors import (
    ChannelError,
    CredentialsRejected,
    PermanentChannelError,
    RateLimited,
    RecipientUnreachable,
)
from bot.core.messages import Channel, Reply
from bot.core.ports import NextTurn
from bot.core.wire import replies_to_payload
from jobs.credentials import FIRST_REST, CredentialWatch
from jobs.outcome_writer import backoff
from jobs.ratelimit import SendLimiter, Unlimited, next_turn
from storage.repositories.outbox import URGENT
from storage.repositories.outbox_reads import FAILED, PENDING
from storage.uow import UnitOfWorkFactory

log = logging.getLogger(__name__)

#: how long a reply may wait for its turn before it is queued for the dispatcher instead
WAIT_LIMIT: Final = 2.0
#: how long, after a reply to a chat was queued, later replies to it look for queued ones
QUEUED_MEMORY: Final = 120.0
#: chats remembered at most before the expired ones are forgotten
MAX_REMEMBERED: Final = 10_000

#: sends one unit, awaiting the given turn before each of its platform messages after the first
SendUnit = Callable[[Sequence[Reply], NextTurn], Awaitable[None]]


class ReplyCourier:
    """Delivers direct replies within the budgets; see the module docstring.

    ``limiter`` is the one the dispatcher uses (set by the server; none: no pacing) and
    ``kick`` wakes the dispatcher after a reply was queued.
    """

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        limiter: SendLimiter | None = None,
        *,
        wait_limit: float = WAIT_LIMIT,
        kick: Callable[[], None] | None = None,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self.limiter: SendLimiter = limiter or Unlimited()
        self.wait_limit = wait_limit
        self.kick = kick
        #: chats with replies queued by this process, until when to look for them
        self._queued: dict[tuple[Channel, str], float] = {}
        #: the bot's credentials refused (the server shares the dispatcher's watch)
        self.credentials = CredentialWatch()

    async def deliver(
        self,
        channel: Channel,
        chat: str,
        units: Sequence[Sequence[Reply]],
        send: SendUnit,
        *,
        retry_key: str | None = None,
    ) -> str:
        """Send ``units`` in order; returns ``sent``, ``queued`` or ``failed`` (recorded).
        Raises :class:`RecipientUnreachable`.

        ``retry_key`` is the key ``send`` gives the platform for the one unit it is given
        (the platform's requests derive theirs from it by their place in the unit); whatever
        is queued of the unit keeps it.

        A unit waits (at most ``wait_limit``) for its first platform message's turn; ``send``
        awaits the turn of each further one (:func:`~jobs.ratelimit.next_turn`) right before
        it, so a unit of several messages reaches the chat spaced as single replies do."""
        if retry_key is not None and len(units) != 1:  # two units would repeat their keys
            raise ValueError("a retry key goes with one unit")
        later = next_turn(self.limiter, channel, "push", chat, urgent=True)
        if await self._behind_queued(channel, chat):
            why = "queued behind earlier replies"
            return await self._queue(channel, chat, units, why, retry_key=retry_key)
        for index, unit in enumerate(units):
            rest = units[index:]
            try:
                # in this task: wait_for would run the turn as a task of its own, iterations of
                # the event loop per reply even when the turn is free at once
                async with asyncio.timeout(self.wait_limit):
                    await self.limiter.before_send(channel, "push", chat, 1, urgent=True)
            except TimeoutError:
                why = "waited for the rate limit"
                return await self._queue(channel, chat, rest, why, retry_key=retry_key)
            try:
                await send(unit, later)
            except RecipientUnreachable:
                raise
            except ChannelError as error:
                if error.rest is not None:  # part of the unit went out: not sent again
                    rest = [error.rest, *units[index + 1 :]]
                return await self._failed(channel, chat, rest, error, retry_key)
            self.limiter.answered(channel, chat)  # a slow answer spaces the chat's next one
            self.credentials.accepted(channel)
        return "sent"

    async def _failed(
        self,
        channel: Channel,
        chat: str,
        rest: Sequence[Sequence[Reply]],
        error: ChannelError,
        retry_key: str | None,
    ) -> str:
        """Queue (or record as failed) what ``error`` kept from going out."""
        why, key = repr(error), retry_key
        if isinstance(error, RateLimited):
            self.limiter.rest(channel, error.retry_after)
            delay = timedelta(seconds=max(error.retry_after, 0.0))
            return await self._queue(channel, chat, rest, why, delay=delay, retry_key=key)
        if isinstance(error, CredentialsRejected):  # the bot's token, not this reply: it waits
            # a short wait whatever the episode's length: the dispatcher rests the channel, and
            # a restart with the right token sends the reply at once
            delay = FIRST_REST
            outcome = await self._queue(channel, chat, rest, why, delay=delay, retry_key=key)
            self.credentials.refused(channel, error, self._clock.now())  # named once, when queued
            return outcome
        if isinstance(error, PermanentChannelError):
            log.warning("reply to %s:%s refused for good: %r", channel.value, chat, error)
            return await self._queue(channel, chat, rest, why, status=FAILED, retry_key=key)
        # a network error, a 5xx: the dispatcher retries
        return await self._queue(channel, chat, rest, why, delay=backoff(1), retry_key=key)

    async def _behind_queued(self, channel: Channel, chat: str) -> bool:
        """Earlier replies to ``chat`` wait in the outbox (looked up only for a chat this
        process queued for lately: the common path reads nothing)."""
        until = self._queued.get((channel, chat))
        if until is None:
            return False
        if until < time.monotonic():
            del self._queued[(channel, chat)]
            return False
        async with self._uow() as uow:
            waiting = await uow.outbox.has_urgent(channel.value, chat)
        if not waiting:
            del self._queued[(channel, chat)]
        return waiting

    async def _queue(
        self,
        channel: Channel,
        chat: str,
        units: Sequence[Sequence[Reply]],
        why: str,
        *,
        delay: timedelta = timedelta(0),
        status: str = PENDING,
        retry_key: str | None = None,
    ) -> str:
        """Write ``units`` to the outbox as one urgent row (or a failed one); the outcome."""
        replies = [reply for unit in units for reply in unit]
        now = self._clock.now()
        due = now + delay
        await self._write(channel, chat, replies, (now, due), status, why, retry_key)
        outcome = "queued" if status == PENDING else "failed"
        log.info("reply to %s:%s %s: %s", channel.value, chat, outcome, why)
        metrics.count_sends(channel.value, "reply", outcome, len(replies))
        if status == PENDING:
            moment = time.monotonic()
            if len(self._queued) >= MAX_REMEMBERED:  # forget the chats whose memory ran out
                self._queued = {key: end for key, end in self._queued.items() if end > moment}
            self._queued[(channel, chat)] = moment + QUEUED_MEMORY
            if self.kick is not None:
                self.kick()
        return outcome

    async def _write(
        self,
        channel: Channel,
        chat: str,
        replies: Sequence[Reply],
        times: tuple[datetime, datetime],
        status: str,
        why: str,
        retry_key: str | None,
    ) -> None:
        """The row (written at ``times[0]``, due at ``times[1]``)."""
        now, due = times
        async with self._uow() as uow:
            identity = await uow.identities.get(channel.value, chat)
            await uow.outbox.enqueue(
                f"reply:{channel.value}:{chat}:{uuid.uuid4()}",
                channel.value,
                chat,
                replies_to_payload(replies),
                now,
                member_id=None if identity is None else identity.member_id,
                not_before=due,
                priority=URGENT,
                status=status,
                error=None if status == PENDING else why,
                retry_key=retry_key,
            )
            await uow.commit()
