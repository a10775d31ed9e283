"""The outbox dispatcher: sends every queued message, once per row.

Queued are the messages that are not direct replies, and the direct replies that could not go
out at once (``jobs.replies``): those are *urgent* rows, sent by an express pass of their own
beside the main one and ahead of every other row in the limiter's queue.

One pass (:meth:`OutboxDispatcher.drain_once`):

1. *claim* — in one short transaction: promotional rows due inside the quiet hours (the
   shop's ``contact_policy``, shop time) are deferred to the end of the quiet hours (not an
   attempt, not dropped); then up to ``limit`` due rows of the channels that have an adapter
   (of a channel that multicasts, a full request for each of a few workers, and more while
   the pass runs, for a few seconds: :mod:`jobs.dispatch_pass`) are taken and their
   ``not_before`` moved a lease ahead. Another process (PostgreSQL ``SKIP LOCKED``; SQLite
   serialises) or a later pass does not see them meanwhile. Promotions their member may no
   longer get (``/stop``, erased, blocked the bot) are withdrawn instead
   (:mod:`shop.withdrawal`), and checked again while they wait for their turn
   (:mod:`jobs.send_check`); a promotion whose turn comes once the quiet hours began is
   handed back, due at their end.
2. *plan* — :mod:`jobs.delivery_plan`: one lane per chat, identical promotions of a channel
   that multicasts (LINE: ≤ 500) as multicasts with a deterministic retry key.
3. *send* — ``concurrency`` workers take lanes; before every request a worker waits for the
   :class:`~jobs.ratelimit.SendLimiter` (Telegram ≈30/s overall and 1/s per chat, LINE per
   endpoint), so several requests are in flight but the rate is never exceeded.
4. *record* — the outcome of each request is committed right after it, before its worker
   sends anything else; outcomes arriving while a transaction is being written are written
   together by the next one (group commit, :mod:`jobs.outcome_writer`); for campaign rows the
   tracking hook runs in that same unit of work.

Crash safety (what a SIGKILL at any moment can and cannot do):

- A row is marked sent only after the platform accepted it, and a row not marked sent is sent
  again by the next pass that claims it (after its lease ends, or at once when it was released
  on an orderly stop). So every message is sent **at least once**, and a message is sent twice
  only if the platform accepted the request but the process died before recording it — the
  requests *in flight* at the crash, at most ``concurrency`` of them.
- LINE (its capabilities declare ``retry_keys``): those repeats are not deliveries. Pushes
  carry the row's retry key and multicasts a key derived from their rows
  (:func:`jobs.delivery_plan.multicast_key`, formed again identically by the next process), so
  LINE answers the repeat 409, which counts as sent: exactly once.
- Telegram has no idempotency key and no way to ask whether a message arrived, so exactly once
  cannot be promised for a request whose answer was lost with the process. We chose *at least
  once* over *at most once*: a receipt or a coupon announced twice is better than one never
  announced. The window is kept to the requests in flight (a worker waits until its
  outcome is committed before its next request), and everything Telegram did not process —
  claimed rows not yet sent, requests cut off before Telegram handled them — is sent exactly
  once after the restart. ``tests/e2e/test_crash_safety.py`` tests exactly that; the accepted-
  but-unrecorded duplicate is pinned in ``tests/unit/test_dispatcher_delivery.py``.

Outcomes — what each answer of a platform does to the row and its channel — are listed in
:mod:`jobs.dispatch_types`. Rows of a channel without an adapter stay pending and are reported
once; rows of a channel served on demand (the console) wait quietly for ``chatcrm chat``; an
adapter with ``serves_only`` (a console terminal) gets only the rows to those users. Every decision
that differs between platforms asks the adapter's declared
:class:`~bot.core.capabilities.ChannelCapabilities`, never the channel's name.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from bot.core.clock import Clock
from bot.core.errors import (
    ChannelError,
    CredentialsRejected,
    PermanentChannelError,
    QuotaExhausted,
    RateLimited,
    RecipientUnreachable,
)
from bot.core.messages import Channel, Reply
from bot.core.ports import Outbound
from bot.core.wire import WireFormatError, payload_to_replies
from jobs.campaign_delivery import outcome_hook
from jobs.credentials import CredentialWatch
from jobs.delivery_plan import Delivery, plan
from jobs.dispatch_pass import FANOUT_PASS, FANOUT_WORKERS, Feeder, Pass, run_workers
from jobs.dispatch_send import send
from jobs.dispatch_types import DrainResult, Outcome, UnroutedReport
from jobs.outcome_writer import BACKOFF, MAX_ATTEMPTS, OutcomeWriter, backoff
from jobs.ratelimit import SendLimiter, Unlimited
from jobs.send_check import NO_QUIET, QuietHours, SendCheck
from shop.contact_policy import ContactPolicy, in_quiet_hours, load_policy, next_send_time
from shop.withdrawal import Claimed, claim_sendable
from storage.uow import UnitOfWork, UnitOfWorkFactory

__all__ = ["BACKOFF", "LEASE", "MAX_ATTEMPTS", "OutboxDispatcher", "backoff"]

log = logging.getLogger(__name__)

#: how long a claimed row is reserved for the process that claimed it
LEASE: Final = timedelta(minutes=5)
#: a row is not pushed when its lease has less than this left (another process could take it)
LEASE_MARGIN: Final = timedelta(seconds=30)
QUOTA_REST: Final = timedelta(hours=1)
POLL_SECONDS: Final = 2.0
#: rows claimed per pass: a multiple of LINE's 500 recipients, so multicast chunks line up (a
#: channel that multicasts claims a full request for every worker: :mod:`jobs.dispatch_pass`)
BATCH: Final = 1000
#: requests in flight at once (the limiter, not this, sets the pace)
CONCURRENCY: Final = 8


class OutboxDispatcher:
    """Drains the outbox through the configured channels; see the module docstring.

    ``limiter`` defaults to no pacing (tests with fake adapters); the server passes
    :class:`jobs.ratelimit.PlatformLimits` built from the settings.
    """

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        channels: Mapping[Channel, Outbound],
        *,
        poll_seconds: float = POLL_SECONDS,
        batch: int = BATCH,
        limiter: SendLimiter | None = None,
        concurrency: int = CONCURRENCY,
        lease: timedelta = LEASE,
        tz: ZoneInfo | None = None,
        locale: str = "th",
        report_unrouted: bool = True,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._channels = dict(channels)
        self._capabilities = {channel: a.capabilities for channel, a in channels.items()}
        #: channels whose adapter serves some users only (see the module docstring)
        self._recipients: dict[str, frozenset[str]] = {
            channel.value: frozenset(users)
            for channel, adapter in channels.items()
            if (users := getattr(adapter, "serves_only", None)) is not None
        }
        self.poll_seconds = poll_seconds
        self.batch = batch
        self.limiter: SendLimiter = limiter or Unlimited()
        self.concurrency = max(concurrency, 1)
        self._fanout_workers = min(self.concurrency, FANOUT_WORKERS)
        self.lease = lease
        self.lease_margin = min(LEASE_MARGIN, lease / 4)
        self.tz = tz or ZoneInfo("Asia/Bangkok")
        self.locale = locale
        self._wake = asyncio.Event()
        self._wake_urgent = asyncio.Event()
        #: channels told to wait (a 429 or the monthly quota), until when
        self._resting: dict[Channel, datetime] = {}
        #: channels resting on the monthly quota, since when: a campaign resumed later (in any
        #: process) lifts that rest, since the owner resumes once the quota allows it again
        self._quota_since: dict[Channel, datetime] = {}
        #: off beside another dispatcher that serves the rest (a console session's own)
        self._report_unrouted = UnroutedReport(self._channels, enabled=report_unrouted)
        self._hook = outcome_hook()
        self.credentials = CredentialWatch()  # the bot's own tokens refused (the server shares it)
        #: held by the claims and send checks of both loops and by the outcome writer: they
        #: take turns on one connection, since every SQLite connection the pool opens keeps a
        #: page cache (and a thread, with its allocator's arena) of its own for as long as it
        #: lives; SQLite writes one transaction at a time anyway, and a turn handed over here
        #: does not wait in SQLite's busy handler
        self._turn = asyncio.Lock()
        self._writer = OutcomeWriter(uow, clock.now, lambda: self._hook, locale, lock=self._turn)

    # -- the loop ------------------------------------------------------------------------

    def kick(self) -> None:
        """Wake the loops now (called after a commit that queued messages)."""
        self._wake.set()
        self._wake_urgent.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Drain, then sleep until kicked or ``poll_seconds`` pass, until ``stop`` is set.

        A full batch is followed at once by the next; a failed pass (database down) is logged
        and retried after the poll interval. Beside it an express loop sends urgent rows
        (replies queued because they could not go out at once), so a reply does not wait for
        a broadcast pass of a thousand rows to end; the limiter lets them go first.
        """
        express = asyncio.create_task(self._run_urgent(stop), name="outbox-express")
        try:
            while not stop.is_set():
                self._wake.clear()  # a kick during the drain below wakes the next wait at once
                try:
                    result = await self.drain_once(self.batch, stop=stop)
                except Exception:
                    log.exception("outbox drain failed")
                    result = DrainResult()
                if result.claimed - result.released >= self.batch:
                    continue
                await self._sleep(stop, self._wake)
        finally:
            await express

    async def _run_urgent(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self._wake_urgent.clear()
            try:
                await self.drain_once(self.batch, stop=stop, urgent_only=True)
            except Exception:
                log.exception("outbox express drain failed")
            await self._sleep(stop, self._wake_urgent)

    async def _sleep(self, stop: asyncio.Event, wake: asyncio.Event) -> None:
        waits = [asyncio.ensure_future(wake.wait()), asyncio.ensure_future(stop.wait())]
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
        self,
        limit: int | None = None,
        *,
        stop: asyncio.Event | None = None,
        urgent_only: bool = False,
    ) -> DrainResult:
        """Claim up to ``limit`` due rows (``urgent_only``: replies only), send them, record
        each outcome (see module doc)."""
        result = DrainResult()
        now = self._clock.now()
        lease_end = now + self.lease
        quiet, policy = NO_QUIET, None
        async with self._turn, self._uow() as uow:
            ready = [c.value for c in self._channels if self._resting.get(c, now) <= now]
            if not urgent_only:
                await self._report_unrouted(uow.outbox, now)
                await self._lift_quota_rest(uow, now)
                ready = [c.value for c in self._channels if self._resting.get(c, now) <= now]
                policy = await load_policy(uow.settings)
                quiet = QuietHours.after(now, self.tz, policy)
                result.deferred = await self._defer_quiet(uow, now, ready, policy)
            fanout = [] if urgent_only else [c for c in ready if self._fanout_size(c)]
            rest = [c for c in ready if c not in fanout]
            to = self._recipients
            first = limit or self.batch
            claimed = await claim_sendable(
                uow, now, first, lease_end, rest, to, urgent_only=urgent_only, tz=self.tz
            )
            size = self._fanout_size(*fanout)
            more = await claim_sendable(uow, now, size, lease_end, fanout, to, tz=self.tz)
            await uow.commit()
        batch = claimed.messages + more.messages
        check = SendCheck(self._uow, self._clock.now, batch, lock=self._turn, quiet=quiet)
        state = Pass(result, lease_end, deque(plan(batch, self._capabilities)), stop, check)
        result.withdrawn = claimed.withdrawn + more.withdrawn
        state.workers = min(self.concurrency, len(state.lanes))
        if fanout and policy and len(more.messages) + more.withdrawn >= size:
            state.feeder = self._feeder(fanout, lease_end, policy)
            state.workers = self._fanout_workers
            state.ahead = max(1, state.workers // 2)
        # the lanes hold the rows now: a long fan-out pass must not keep them twice
        del batch, claimed, more
        await run_workers(state, self._work, self._capabilities)
        state.held += [(row, now) for lane in state.lanes for d in lane for row in d.rows]
        await state.release(self._uow)
        return result

    def _fanout_size(self, *channels: str) -> int:
        """Rows a claim of multicasting ``channels`` takes: a full request for every fan-out worker
        (0: none of them multicasts)."""
        sizes = [self._capabilities[Channel(c)].multicast_max for c in channels]
        largest = max(sizes, default=1)
        return max(self.batch, self._fanout_workers * largest) if largest > 1 else 0

    def _feeder(self, fanout: list[str], lease_end: datetime, policy: ContactPolicy) -> Feeder:
        """Claims the next rows of ``fanout`` for a pass while its lease leaves time to send
        (with the pass's quiet hours: a change is seen by the next pass, as by its rows)."""
        lane = max(self._capabilities[Channel(c)].multicast_max for c in fanout)

        async def claim(size: int) -> Claimed:
            now = self._clock.now()
            async with self._uow() as uow:
                ready = [c for c in fanout if self._resting.get(Channel(c), now) <= now]
                await self._defer_quiet(uow, now, ready, policy)
                claimed = await claim_sendable(
                    uow, now, size, lease_end, ready, self._recipients, tz=self.tz
                )
                await uow.commit()
            return claimed

        until = min(lease_end - 2 * self.lease_margin, self._clock.now() + FANOUT_PASS)
        return Feeder(claim, lane, until, self._clock.now)

    async def _lift_quota_rest(self, uow: UnitOfWork, now: datetime) -> None:
        """End a channel's monthly-quota rest when a campaign was resumed since it began
        (``/campaign resume`` may run in another ``serve`` process: the database says so)."""
        for channel, since in list(self._quota_since.items()):
            if self._resting.get(channel, now) <= now:
                del self._quota_since[channel]  # the rest ran out by itself
            elif await uow.campaigns.resumed_since(since):
                log.info("%s quota rest lifted: a campaign was resumed", channel)
                del self._quota_since[channel]
                self._resting.pop(channel, None)

    async def _defer_quiet(
        self, uow: UnitOfWork, now: datetime, ready: list[str], policy: ContactPolicy
    ) -> int:
        if not ready or not in_quiet_hours(now, self.tz, policy):
            return 0
        until = next_send_time(now, self.tz, policy)
        return await uow.outbox.defer_promotional(now, until, ready, self._recipients)

    async def _work(self, state: Pass) -> None:
        """One worker: take lanes until none is left, one request at a time."""
        while (lane := await state.next_lane()) is not None:
            for index, delivery in enumerate(lane):
                if state.stopping or self._clock.now() >= state.lease_end - self.lease_margin:
                    now = self._clock.now()
                    state.held += [(row, now) for d in lane[index:] for row in d.rows]
                    break
                await self._deliver(delivery, state)

    async def _deliver(self, planned: Delivery, state: Pass) -> None:
        channel, quiet = planned.channel, state.check.quiet
        if quiet.until(planned, self._clock.now()) is None:  # else no turn to waste: held below
            await planned.wait_turn(self.limiter)
        delivery = await state.check.keep(planned)  # withdrawn while it waited: not sent
        kept = len(delivery.rows) if delivery is not None else 0
        state.count(channel, ["withdrawn"] * (len(planned.rows) - kept))
        if delivery is None:
            return
        now = self._clock.now()
        # a channel resting after a 429 is not pushed into again; a promotion whose turn came
        # once the quiet hours began (its claim came before) waits for them to end
        until = self._resting.get(channel)
        if until is None or until <= now:
            until = quiet.until(delivery, now)
        if until is not None:
            state.held += [(row, until) for row in delivery.rows]
            return
        try:
            replies = payload_to_replies(delivery.rows[0].payload)
            adapter, caps = self._channels[channel], self._capabilities[channel]
            await send(adapter, caps, delivery, replies, self.limiter)
        except WireFormatError as error:
            log.error("outbox row %s has an unreadable payload: %s", delivery.rows[0].id, error)
            await self._record(delivery, state, "failed", error=str(error))
        except RateLimited as error:
            wait = max(error.retry_after, 0.0)
            until = now + timedelta(seconds=wait)
            self._resting[channel] = until
            self.limiter.rest(channel, wait)
            await self._record(delivery, state, "rate_limited", not_before=until, error=error)
        except QuotaExhausted as error:
            until = now + QUOTA_REST
            self._resting[channel] = until
            self._quota_since.setdefault(channel, now)
            log.warning("%s monthly message quota used up; resting until %s", channel, until)
            await self._record(delivery, state, "quota_exhausted", not_before=until, error=error)
        except RecipientUnreachable as error:
            await self._record(delivery, state, "unreachable", error=str(error) or "blocked")
        except CredentialsRejected as error:  # the bot's own token: rows wait, the channel rests
            self._resting[channel] = now + self.credentials.refused(channel, error, now).rest(now)
            await self._record(delivery, state, "released", not_before=now, error=error)
        except PermanentChannelError as error:
            await self._record(delivery, state, "failed", error=str(error))
        except Exception as error:  # TransientChannelError, other ChannelErrors, adapter bugs
            if not isinstance(error, ChannelError):
                log.exception("sending outbox row %s crashed", delivery.rows[0].id)
            rest = error.rest if isinstance(error, ChannelError) else None
            await self._record(delivery, state, "retrying", error=repr(error), rest=rest)
        else:
            self.limiter.answered(channel, delivery.chat)  # before the write: its answer time
            self.credentials.accepted(channel)
            await self._record(delivery, state, "sent")

    async def _record(
        self,
        delivery: Delivery,
        state: Pass,
        outcome: Outcome,
        *,
        not_before: datetime | None = None,
        error: str | ChannelError | None = None,
        rest: Sequence[Reply] | None = None,
    ) -> None:
        """Store the outcome of every row of one request (committed, with the campaign hook,
        before this returns: :mod:`jobs.outcome_writer`) and count it. A platform's error gives
        its text and what it left to send (``ChannelError.rest``)."""
        if isinstance(error, ChannelError):
            rest, error = error.rest, str(error)
        counted = await self._writer.write(delivery, outcome, not_before, error, rest)
        state.check.done(delivery)
        state.count(delivery.channel, counted)
