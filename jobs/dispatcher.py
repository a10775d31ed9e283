"""The outbox dispatcher: sends every message that is not a direct reply, exactly once per row.

One pass (:meth:`OutboxDispatcher.drain_once`):

1. *claim* — in one short transaction, take up to ``limit`` due rows of the channels that have
   an adapter and move their ``not_before`` a lease (:data:`LEASE`) ahead. Another process
   (PostgreSQL ``SKIP LOCKED``; SQLite serialises) or a later pass does not see them meanwhile.
2. *send* each row through its channel's :class:`Outbound` (LINE with the row's retry key).
3. *record* the outcome of that one row in a unit of work of its own, right after its push.

Crash safety: a row is marked sent only after the platform accepted it. A crash between a push
and its record leaves just that row pending; it is sent again when its lease ends, which LINE
answers with 409 for the repeated retry key (treated as accepted), so a duplicate is only
possible on Telegram and only for that one message. Rows claimed but not yet pushed when the
process stops are released (or, after a hard kill, simply come due when the lease ends).

Outcomes: accepted → ``sent``; :class:`RateLimited` → due again after ``retry_after`` and the
channel rests that long (no attempt used); :class:`TransientChannelError` (or an unexpected
exception) → an attempt used, back off 5 s, 30 s, 2 min, 10 min, … and ``failed`` after
:data:`MAX_ATTEMPTS`; :class:`RecipientUnreachable` → ``unreachable`` and the chat account
marked unreachable; :class:`PermanentChannelError` or an unreadable payload → ``failed``;
:class:`QuotaExhausted` → the channel rests an hour (no hot retry loop; issue 4 pauses
campaigns and tells the owner). Rows of a channel without an adapter stay pending and are
reported once; console rows wait quietly for ``chatcrm chat``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Literal, Protocol, cast

from bot.clock import Clock
from bot.core.errors import (
    ChannelError,
    PermanentChannelError,
    QuotaExhausted,
    RateLimited,
    RecipientUnreachable,
)
from bot.core.messages import Channel, Reply
from bot.core.ports import Outbound
from bot.core.wire import WireFormatError, payload_to_replies
from storage.repositories.outbox import QueuedMessage
from storage.uow import UnitOfWorkFactory

log = logging.getLogger(__name__)

#: how long a claimed row is reserved for the process that claimed it
LEASE: Final = timedelta(minutes=5)
#: a row is not pushed when its lease has less than this left (another process could take it)
LEASE_MARGIN: Final = timedelta(seconds=30)
#: waits after the 1st, 2nd, … failed attempt (the last one repeats)
BACKOFF: Final = (
    timedelta(seconds=5),
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=10),
)
MAX_ATTEMPTS: Final = 6
QUOTA_REST: Final = timedelta(hours=1)
POLL_SECONDS: Final = 2.0
BATCH: Final = 100
#: how often rows of channels nobody serves are looked for (to report them once)
UNROUTED_CHECK: Final = timedelta(minutes=10)

Outcome = Literal[
    "sent", "rate_limited", "retrying", "failed", "unreachable", "quota_exhausted", "released"
]


class KeyedOutbound(Protocol):
    """An :class:`Outbound` whose push takes a retry key (LINE's ``X-Line-Retry-Key``).

    ``bot.channels.line.LineChannel`` is one; the dispatcher relies on it for LINE rows.
    """

    async def push(
        self, user_id: str, replies: Sequence[Reply], retry_key: str | None = None
    ) -> None: ...


@dataclass
class DrainResult:
    """What one pass did, counted by outcome."""

    sent: int = 0
    rate_limited: int = 0
    retrying: int = 0
    failed: int = 0
    unreachable: int = 0
    quota_exhausted: int = 0
    #: claimed but handed back unsent (stopping, a resting channel, a lease running out)
    released: int = 0
    #: the row had been withdrawn (erased member, cancelled campaign) before its outcome
    withdrawn: int = 0

    @property
    def claimed(self) -> int:
        return (
            self.sent
            + self.rate_limited
            + self.retrying
            + self.failed
            + self.unreachable
            + self.quota_exhausted
            + self.released
            + self.withdrawn
        )


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed attempt (1-based)."""
    return BACKOFF[min(max(attempts, 1), len(BACKOFF)) - 1]


class OutboxDispatcher:
    """Drains the outbox through the configured channels; see the module docstring."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        channels: Mapping[Channel, Outbound],
        *,
        poll_seconds: float = POLL_SECONDS,
        batch: int = BATCH,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._channels = dict(channels)
        self.poll_seconds = poll_seconds
        self.batch = batch
        self._wake = asyncio.Event()
        self._stopping = False
        #: channels told to wait (a 429 or the monthly quota), until when
        self._resting: dict[Channel, datetime] = {}
        self._reported: set[str] = set()
        self._next_unrouted_check: datetime | None = None

    # -- the loop ------------------------------------------------------------------------

    def kick(self) -> None:
        """Wake the loop now (called after a commit that queued messages)."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Drain, then sleep until kicked or ``poll_seconds`` pass, until ``stop`` is set.

        A full batch is followed at once by the next; a failed pass (database down) is logged
        and retried after the poll interval.
        """
        self._stopping = False
        while not stop.is_set():
            self._wake.clear()  # a kick during the drain below wakes the next wait at once
            try:
                result = await self.drain_once(self.batch, stop=stop)
            except Exception:
                log.exception("outbox drain failed")
                result = DrainResult()
            if result.claimed - result.released >= self.batch:
                continue
            await self._sleep(stop)

    async def _sleep(self, stop: asyncio.Event) -> None:
        waits = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stop.wait())]
        try:
            first = asyncio.FIRST_COMPLETED
            await asyncio.wait(waits, timeout=self.poll_seconds, return_when=first)
        finally:
            for task in waits:
                task.cancel()
            for task in waits:
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    # -- one pass ------------------------------------------------------------------------

    async def drain_once(
        self, limit: int = BATCH, *, stop: asyncio.Event | None = None
    ) -> DrainResult:
        """Claim up to ``limit`` due rows, send each, record each outcome (see module doc)."""
        result = DrainResult()
        now = self._clock.now()
        lease_end = now + LEASE
        async with self._uow() as uow:
            await self._report_unrouted(uow.outbox, now)
            ready = [c.value for c in self._channels if self._resting.get(c, now) <= now]
            batch = await uow.outbox.claim(now, limit, lease_end, ready) if ready else []
            await uow.commit()
        for index, message in enumerate(batch):
            stopping = stop is not None and stop.is_set()
            if stopping or self._clock.now() >= lease_end - LEASE_MARGIN:
                await self._release(batch[index:], result)
                break
            await self._deliver(message, result)
        return result

    async def _deliver(self, message: QueuedMessage, result: DrainResult) -> None:
        channel = Channel(message.channel)
        now = self._clock.now()
        if (resting := self._resting.get(channel)) is not None and resting > now:
            # an earlier row of this batch made the channel rest: do not push into a 429 again
            await self._record(message, result, "released", not_before=resting)
            return
        try:
            replies = payload_to_replies(message.payload)
            await self._push(channel, message, replies)
        except WireFormatError as error:
            log.error("outbox row %s has an unreadable payload: %s", message.id, error)
            await self._record(message, result, "failed", error=str(error))
        except RateLimited as error:
            until = now + timedelta(seconds=max(error.retry_after, 0.0))
            self._resting[channel] = until
            await self._record(message, result, "rate_limited", not_before=until, error=str(error))
        except QuotaExhausted as error:
            until = now + QUOTA_REST
            self._resting[channel] = until
            log.warning("%s monthly message quota used up; resting until %s", channel, until)
            await self._record(
                message, result, "quota_exhausted", not_before=until, error=str(error)
            )
        except RecipientUnreachable as error:
            await self._record(message, result, "unreachable", error=str(error) or "blocked")
        except PermanentChannelError as error:
            await self._record(message, result, "failed", error=str(error))
        except Exception as error:  # TransientChannelError, other ChannelErrors, adapter bugs
            if not isinstance(error, ChannelError):
                log.exception("pushing outbox row %s crashed", message.id)
            await self._record(message, result, "retrying", error=repr(error))
        else:
            await self._record(message, result, "sent")

    async def _push(self, channel: Channel, message: QueuedMessage, replies: list[Reply]) -> None:
        adapter = self._channels[channel]
        if channel is Channel.LINE:
            # LINE's adapter takes the row's retry key, so a re-send after a crash is a no-op
            keyed = cast(KeyedOutbound, adapter)
            await keyed.push(message.user_id, replies, retry_key=message.retry_key)
        else:
            await adapter.push(message.user_id, replies)

    async def _record(
        self,
        message: QueuedMessage,
        result: DrainResult,
        outcome: Outcome,
        *,
        not_before: datetime | None = None,
        error: str | None = None,
    ) -> None:
        """Store one row's outcome in its own unit of work and count it."""
        now = self._clock.now()
        async with self._uow() as uow:
            box = uow.outbox
            if outcome == "sent":
                changed = await box.mark_sent(message.id, now)
            elif outcome in ("rate_limited", "quota_exhausted", "released"):
                changed = await box.reschedule(
                    message.id, not_before or now, error, count_attempt=False
                )
            elif outcome == "unreachable":
                changed = await box.mark_unreachable(message.id, error or "")
            elif outcome == "retrying" and message.attempts + 1 < MAX_ATTEMPTS:
                wait = backoff(message.attempts + 1)
                changed = await box.reschedule(message.id, now + wait, error, count_attempt=True)
            else:  # failed, or retrying with its attempts used up
                outcome = "failed"
                changed = await box.mark_failed(message.id, error or "failed")
            await uow.commit()
        counted = outcome if changed else "withdrawn"
        setattr(result, counted, getattr(result, counted) + 1)

    async def _release(self, rest: Sequence[QueuedMessage], result: DrainResult) -> None:
        async with self._uow() as uow:
            await uow.outbox.release([m.id for m in rest], self._clock.now())
            await uow.commit()
        result.released += len(rest)

    async def _report_unrouted(self, outbox: _PendingProbe, now: datetime) -> None:
        """Log once per channel that rows wait for a channel this process does not serve."""
        if self._next_unrouted_check is not None and now < self._next_unrouted_check:
            return
        self._next_unrouted_check = now + UNROUTED_CHECK
        for channel in Channel:
            # console rows wait for `chatcrm chat`, which is not running all the time: normal
            if channel in self._channels or channel is Channel.CONSOLE:
                continue
            if channel.value not in self._reported and await outbox.has_pending(channel.value):
                self._reported.add(channel.value)
                log.warning("outbox rows for %s wait: that channel is not configured", channel)


class _PendingProbe(Protocol):
    async def has_pending(self, channel: str) -> bool: ...
