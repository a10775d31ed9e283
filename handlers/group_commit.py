"""Group commit: events that arrive while a transaction runs share the next one.

A commit costs a trip to the database (and on SQLite a WAL write) whatever it carries, so under
load the bus hands the events waiting at that moment — at most :data:`BATCH_LIMIT` — to one unit
of work. A batch runs first without savepoints; should an event be refused (a domain error) or
crash, that try is rolled back whole and the batch runs again with each event inside a SAVEPOINT
of its own: a domain error or a crash rolls back that event alone, which is then recorded (with
its author's arrival, as :meth:`Bus._handle` does) in the same transaction. The first try kept
nothing, so every event still has one effect; the common batch, in which every event succeeds,
saves a statement per event (on PostgreSQL a trip). After a try that failed, the next
:data:`GUARDED_AFTER_FAILURE` batches take their savepoints at once, so a run of refusals does
not have most batches run twice. Replies are handed back only once the batch
has committed. When the batch itself fails (its commit, a dead connection, a deadlock with a
parallel batch: any error of the database driver, even in one event) nothing of it was kept,
and each of its events runs again alone through the bus's one-event path, whose failures end
in a 5xx exactly as before. An event alone in its batch takes that path directly: no savepoint,
the cost is that of the single path.

No wait is added to fill a batch: an idle bus handles an event at once, and a busy one gathers
whatever arrived during the previous transaction. SQLite has one writer, so one runner; on
PostgreSQL several batches run in parallel (:data:`PG_RUNNERS`).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.core.errors import DomainError
from bot.core.messages import Inbound, Reply
from bot.i18n import supported_locale, t
from bot.logging_context import bind_event, bound_member
from handlers.context import Context
from storage.errors import DriverError
from storage.uow import UnitOfWork

if TYPE_CHECKING:
    from handlers.bus import Bus

log = logging.getLogger(__name__)

#: most events one transaction carries: a crash in one of them is re-run alone, and a long batch
#: holds its locks (SQLite's write lock) longer
BATCH_LIMIT = 32
#: batches in flight at once on PostgreSQL; each holds one pooled connection
PG_RUNNERS = 4
#: batches run guarded at once (a savepoint per event) after a try without savepoints failed:
#: where refusals come often (a rush of typed answers to a button question), most tries would
#: fail and every such batch would run twice
GUARDED_AFTER_FAILURE = 8

#: (channel, user id, locale) the replies are written in, or None
Answered = tuple[str, str, str] | None


@dataclass(frozen=True, slots=True)
class Done:
    """How one event ended: its replies, the metrics' result, the language answered in."""

    replies: list[Reply]
    result: str
    answered: Answered
    #: the member the event was handled for: the caller's log lines carry it too (the event
    #: may have run in a batch runner's task, whose bound ids do not reach the caller)
    member_id: int | None = field(default_factory=bound_member)


@dataclass(slots=True)
class _Waiting:
    inbound: Inbound
    done: asyncio.Future[Done]


class _Refused(Exception):
    """Carries a domain error out of the event's savepoint, so that the savepoint rolls back."""

    def __init__(self, error: DomainError, ctx: Context) -> None:
        super().__init__(error.key)
        self.error = error
        self.ctx = ctx


class GroupCommit:
    """The bus's queue of events and the runners that commit them in batches."""

    def __init__(self, bus: Bus[Any], runners: int, alone: Callable[[Inbound], Awaitable[Done]]):
        self._bus = bus
        self._runners = runners
        self._alone_path = alone
        self._queue: deque[_Waiting] = deque()
        self._active = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._guarded_left = 0  # batches still to run guarded at once (GUARDED_AFTER_FAILURE)

    async def submit(self, inbound: Inbound) -> Done:
        waiting = _Waiting(inbound, asyncio.get_running_loop().create_future())
        self._queue.append(waiting)
        if self._active < self._runners:
            self._active += 1
            task = asyncio.create_task(self._run())
            self._tasks.add(task)  # the loop keeps only a weak reference
            task.add_done_callback(self._tasks.discard)
        return await waiting.done

    async def _run(self) -> None:
        try:
            while self._queue:
                size = min(BATCH_LIMIT, len(self._queue))
                batch = [self._queue.popleft() for _ in range(size)]
                # a caller that gave up (cancelled) before its turn is not handled: as before,
                # where its cancellation rolled its unit of work back
                live = [waiting for waiting in batch if not waiting.done.done()]
                try:
                    await self._run_batch(live)
                except BaseException:
                    for waiting in live:
                        waiting.done.cancel()  # nobody waits forever on a runner that died
                    raise
        finally:
            # no await between the empty queue above and this: a submit in between would see
            # a runner that is about to stop and start none
            self._active -= 1

    async def _run_batch(self, live: list[_Waiting]) -> None:
        if len(live) == 1:
            await self._alone(live[0])
            return
        if not live:
            return
        try:
            outcomes = await self._together([waiting.inbound for waiting in live])
        except Exception:
            log.warning("a batch of %d events failed; each runs alone", len(live), exc_info=True)
            for waiting in live:
                await self._alone(waiting)
            return
        for waiting, outcome in zip(live, outcomes, strict=True):
            if not waiting.done.done():
                waiting.done.set_result(outcome)

    async def _alone(self, waiting: _Waiting) -> None:
        try:
            outcome = await self._alone_path(waiting.inbound)
        except Exception as error:
            if not waiting.done.done():
                waiting.done.set_exception(error)
            return
        if not waiting.done.done():
            waiting.done.set_result(outcome)

    async def _together(self, inbounds: list[Inbound]) -> list[Done]:
        if self._guarded_left > 0:
            self._guarded_left -= 1
            return await self._guarded(inbounds)
        outcomes = await self._unguarded(inbounds)
        if outcomes is None:
            self._guarded_left = GUARDED_AFTER_FAILURE
            outcomes = await self._guarded(inbounds)
        return outcomes

    async def _unguarded(self, inbounds: list[Inbound]) -> list[Done] | None:
        """The batch without a savepoint per event, or None when an event was refused or
        crashed: then nothing of this try is kept, and :meth:`_guarded` runs the batch again.

        A savepoint costs a statement per event (on PostgreSQL a trip of its own) and is of use
        only to the rare event that fails: the common batch commits as it would with them.
        """
        bus = self._bus
        async with bus._uow() as uow:
            outcomes: list[Done] = []
            for inbound in inbounds:
                outcome = await self._plain(uow, inbound, bus.clock.now())
                if outcome is None:
                    return None  # rolled back as the unit of work closes uncommitted
                outcomes.append(outcome)
            await self._commit(uow)
        return outcomes

    async def _guarded(self, inbounds: list[Inbound]) -> list[Done]:
        bus = self._bus
        async with bus._uow() as uow:
            outcomes = [await self._one(uow, inbound, bus.clock.now()) for inbound in inbounds]
            await self._commit(uow)
        return outcomes

    async def _commit(self, uow: UnitOfWork) -> None:
        await uow.commit()
        if uow.outbox.enqueued and self._bus.on_commit is not None:
            self._bus.on_commit()  # messages to others go out now, not at the next poll

    async def _plain(self, uow: UnitOfWork, inbound: Inbound, now: datetime) -> Done | None:
        """One event of an unguarded batch (:meth:`_unguarded`); None if it failed."""
        bind_event(inbound.identity.channel.value, inbound.event_id)
        try:
            return await self._handled(uow, inbound, now)
        except DriverError:
            raise  # the batch's failure: each event runs again alone (:meth:`_run_batch`)
        except Exception as error:
            # refused (a domain error) or crashed: its writes cannot be undone alone without a
            # savepoint; the guarded run tells them apart, answers, logs and records them
            log.debug(
                "event %s failed unguarded (%r); its batch runs guarded", inbound.event_id, error
            )
            return None

    async def _handled(self, uow: UnitOfWork, inbound: Inbound, now: datetime) -> Done:
        """The event routed and its state saved (a duplicate: nothing done); a domain error
        comes out as :class:`_Refused`, with the context it was refused in."""
        bus = self._bus
        arrival = await bus._arrive(uow, inbound, now)
        if arrival is None:
            return Done([], "duplicate", None)
        ctx = bus._context(uow, inbound, arrival, now)
        try:
            replies = await bus.router.route(ctx)
            await bus._save_state(ctx)
        except DomainError as error:
            raise _Refused(error, ctx) from None
        return Done(replies, "handled", _answered(ctx))

    async def _one(self, uow: UnitOfWork, inbound: Inbound, now: datetime) -> Done:
        """One event of a guarded batch, in a savepoint of its own."""
        bus = self._bus
        bind_event(inbound.identity.channel.value, inbound.event_id)
        try:
            async with uow.savepoint():
                return await self._handled(uow, inbound, now)
        except _Refused as refused:
            # the handler's writes are gone; the event and its author's arrival are kept
            if await bus._arrive(uow, inbound, now) is None:
                return Done([], "duplicate", None)
            refusal, ctx = refused.error, refused.ctx
            reply = Reply(text=t(ctx.locale, refusal.key, **refusal.params))
            return Done([reply], "domain_error", _answered(ctx))
        except DriverError:
            # the database's refusal (a deadlock with a parallel batch, a lost connection, a
            # busy SQLite) may be the batch's doing, not the event's: all of it runs again alone
            raise
        except Exception:
            log.exception("event %s from %s failed", inbound.event_id, inbound.identity)
            # recorded as handled (a redelivery would only fail the same way); if even this
            # fails, the whole batch runs again one event at a time
            if inbound.event_id:
                await uow.events.first_time(inbound.event_id, now)
            hinted = supported_locale(inbound.language_code) or bus.settings.locale
            return Done([Reply(text=t(hinted, "error.internal"))], "crashed", None)


def _answered(ctx: Context) -> Answered:
    return (ctx.channel, ctx.inbound.identity.user_id, ctx.locale)
