"""The bus: every event handled once, in a transaction (shared under load: group_commit.py).

open unit of work → skip an event id already seen (one ``INSERT … ON CONFLICT DO NOTHING``) →
read identity, member, staff account, conversation state and the settings version (one joined
SELECT, as plain values: ``storage/repositories/arrival.py``) → route → save state → commit →
return replies. A domain error rolls all of it back, and a second unit of work records the
event id and the arrival alone. The adapter delivers the replies only after this returns, so
nobody is told about points that were rolled back.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextvars import ContextVar
from datetime import datetime, timedelta
from typing import Generic, TypeVar

from bot import metrics
from bot.config import Settings
from bot.core.clock import Clock
from bot.core.errors import DomainError
from bot.core.messages import Inbound, InboundKind, Reply
from bot.core.ports import QuotaReader
from bot.i18n import supported_locale, t
from bot.logging_context import bind_event, bind_member
from handlers.context import DEFAULT_FLOW_TTL, Context, EventRouter, FlowState
from handlers.group_commit import PG_RUNNERS, Done, GroupCommit
from shop.campaigns.contact_events import record_contact_event
from storage.errors import DriverError
from storage.repositories.arrival import Arrival, IdentityView, StateView
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)


#: (channel, user id, locale) of the last event this task's bus call answered: the adapter
#: renders those replies in that language without reading the member again
answered_in: ContextVar[tuple[str, str, str] | None] = ContextVar("answered_in", default=None)


def _runners(uow_factory: object) -> int:
    """Batches in flight at once: one on SQLite, several on PostgreSQL.

    SQLite has one writer, and every unit of work starts with ``BEGIN IMMEDIATE``: units of work
    run concurrently would wait for the database lock in SQLite's busy handler, which sleeps in
    steps of up to 100 ms, so under load updates would queue behind each other for whole sleeps
    while the lock sat free (``bench/webhook_ingest.py`` shows it). One runner hands the
    database over at once. PostgreSQL runs batches in parallel.
    """
    sessions = getattr(uow_factory, "sessions", None)
    bind = getattr(sessions, "kw", {}).get("bind")
    dialect = getattr(getattr(bind, "dialect", None), "name", None)
    return 1 if dialect == "sqlite" else PG_RUNNERS


#: the router a bus runs; its composer (and the channels that read its menus) know which one
RouterT = TypeVar("RouterT", bound=EventRouter)


class Bus(Generic[RouterT]):
    """Runs each event through ``router`` in a unit of work of its own (module docstring)."""

    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        router: RouterT,
        clock: Clock,
        settings: Settings,
    ) -> None:
        self._uow = uow_factory
        self.router = router
        self.clock = clock
        self.settings = settings
        #: called after a commit that queued outbox rows (the dispatcher's ``kick``)
        self.on_commit: Callable[[], None] | None = None
        #: LINE's quota endpoints, set by the server when LINE is on (campaign previews)
        self.quota_reader: QuotaReader | None = None
        self._batches = GroupCommit(self, _runners(uow_factory), self._handle_alone)

    async def handle(self, inbound: Inbound) -> list[Reply]:
        """Handle one event exactly once; returns what to send back to its author.

        A :class:`DomainError` undoes the handler's writes and becomes a friendly reply. Any
        other exception undoes everything, is logged, and the event is still recorded as
        handled (a redelivery would only fail the same way) with an apology to the user —
        unless the database cannot even record that: then the exception propagates, the
        adapter answers 5xx and the platform delivers the event again later.
        """
        channel = inbound.identity.channel.value
        bind_event(channel, inbound.event_id)  # every log line of this event carries its ids
        started = time.perf_counter()
        result = "failed"
        try:
            done = await self._batches.submit(inbound)  # handlers/group_commit.py
            result = done.result
            answered_in.set(done.answered)
            bind_member(done.member_id)
            return done.replies
        finally:
            metrics.observe_handler(channel, time.perf_counter() - started)
            metrics.count_update(channel, result)
            log.debug("event %s %s", inbound.event_id, result)

    async def _handle_alone(self, inbound: Inbound) -> Done:
        """One event in a unit of work of its own (:meth:`handle`'s contract)."""
        bind_event(inbound.identity.channel.value, inbound.event_id)
        answered_in.set(None)
        try:
            replies, result = await self._handle_reconnecting(inbound)
            return Done(replies, result, answered_in.get())
        except Exception:
            log.exception("event %s from %s failed", inbound.event_id, inbound.identity)
            if not await self._remember_failed(inbound):
                raise
            # recorded as handled, answered with an apology; the database may be what
            # failed: the platform's hint is all there is
            hinted = supported_locale(inbound.language_code) or self.settings.locale
            return Done([Reply(text=t(hinted, "error.internal"))], "crashed", None)

    async def _handle_reconnecting(self, inbound: Inbound) -> tuple[list[Reply], str]:
        """:meth:`_handle`, run once more when the database connection turned out to be dead.

        Pooled connections are not pinged before use (``storage/db.py``), so the first event
        after a database restart meets a dead connection. Whatever it had begun died with it
        (the server rolls back a lost session's transaction), so running the event again on a
        fresh connection is safe; had the commit itself gone through, the rerun finds the event
        id recorded and does nothing.
        """
        try:
            return await self._handle(inbound)
        except DriverError as error:
            if not error.connection_invalidated:
                raise
            log.warning("database connection lost during event %s; retrying", inbound.event_id)
            return await self._handle(inbound)

    async def _handle(self, inbound: Inbound) -> tuple[list[Reply], str]:
        """The replies, and how the event ended (for the metrics).

        A :class:`DomainError` ends the handler's unit of work without a commit, so nothing the
        handler wrote is kept; the event is then recorded, with its author's arrival, in a
        second short unit of work (cheaper, on the common path, than a savepoint around every
        handler).
        """
        now = self.clock.now()
        async with self._uow() as uow:
            arrival = await self._arrive(uow, inbound, now)
            if arrival is None:
                return [], "duplicate"
            ctx = self._context(uow, inbound, arrival, now)
            try:
                replies = await self.router.route(ctx)
                await self._save_state(ctx)
            except DomainError as error:
                refusal = error  # answered below, once this unit of work has been rolled back
            else:
                answered_in.set((ctx.channel, inbound.identity.user_id, ctx.locale))
                await uow.commit()
                if uow.outbox.enqueued and self.on_commit is not None:
                    self.on_commit()  # messages to others go out now, not at the next poll
                return replies, "handled"
        async with self._uow() as uow:
            if await self._arrive(uow, inbound, now) is None:
                return [], "duplicate"  # a redelivery was handled in between
            answered_in.set((ctx.channel, inbound.identity.user_id, ctx.locale))
            await uow.commit()
        return [Reply(text=t(ctx.locale, refusal.key, **refusal.params))], "domain_error"

    async def _arrive(self, uow: UnitOfWork, inbound: Inbound, now: datetime) -> Arrival | None:
        """Record the event id and its author's arrival; None when the event was seen before."""
        arrival = await self._recorded_arrival(uow, inbound, now)
        if arrival is None:
            log.info("duplicate event %s ignored", inbound.event_id)
            return None
        uow.settings.seen_version(arrival.settings_version)  # settings cached if current
        identity = await self._follow_reachability(uow, inbound, arrival.identity, now)
        bind_member(identity.member_id)
        return arrival if identity is arrival.identity else arrival._replace(identity=identity)

    @staticmethod
    async def _follow_reachability(
        uow: UnitOfWork, inbound: Inbound, identity: IdentityView, now: datetime
    ) -> IdentityView:
        """``identity`` reachable or not as the person's latest act says: an unfollow blocks,
        a follow or any message after one is their return.

        The platform may hand over an event late (LINE redelivers with the original
        timestamp, after what happened since), so an act older than the one the flag last
        followed (``reachability_at``) changes nothing: an unfollow redelivered after the
        follow again, or a text redelivered after the unfollow. Of two acts stamped alike
        (the same millisecond, or second on Telegram) the one handled later counts: the
        order of delivery is all there is to go by. An act the platform does not date (a
        Telegram button press) happened by the time it arrived, so after every act recorded
        before it, whatever this server's clock says against the platform's. A follow that
        changes nothing is kept as that act all the same (an older unfollow may come).
        """
        at, last = inbound.happened_at, identity.reachability_at
        if at is None:
            at = now if last is None else max(now, last)
        elif last is not None and at < last:
            return identity
        channel, member_id = inbound.identity.channel.value, identity.member_id
        if inbound.kind is InboundKind.UNFOLLOW:
            if identity.reachable and member_id is not None:
                await record_contact_event(uow, member_id, channel, "blocked", now)
            return await uow.identities.set_reachable(identity, False, at)
        if not identity.reachable:
            if member_id is not None:  # they came back
                await record_contact_event(uow, member_id, channel, "unblocked", now)
            return await uow.identities.set_reachable(identity, True, at)
        if inbound.kind is InboundKind.FOLLOW:
            return await uow.identities.set_reachable(identity, True, at)
        return identity

    @staticmethod
    async def _recorded_arrival(uow: UnitOfWork, inbound: Inbound, now: datetime) -> Arrival | None:
        """The event id recorded, then its author's identity, member, staff account,
        conversation state and the settings version read at once; None when the event was
        seen before (nothing written). On SQLite the id's INSERT goes in the read's trip; on
        PostgreSQL it is a CTE of the read, one statement."""
        channel, user_id = inbound.identity.channel.value, inbound.identity.user_id
        hints = (inbound.display_name, inbound.language_code)
        if not inbound.event_id:
            return await uow.identities.arrive(channel, user_id, now, *hints)
        if uow.identities.records_in_read:
            event_id = inbound.event_id
            return await uow.identities.arrive_recording(event_id, channel, user_id, now, *hints)
        first_time = await uow.events.first_time_along(inbound.event_id, now)
        if first_time is not None:
            return await uow.identities.arrive_if_new(first_time, channel, user_id, now, *hints)
        if not await uow.events.first_time(inbound.event_id, now):
            return None
        return await uow.identities.arrive(channel, user_id, now, *hints)

    def _context(
        self, uow: UnitOfWork, inbound: Inbound, arrival: Arrival, now: datetime
    ) -> Context:
        identity = arrival.identity
        member = arrival.member
        if member is not None and member.erased_at is not None:
            member = None
        state = _flow_state(arrival.conversation, now)
        locale = (
            member.locale
            if member is not None
            else identity.chosen_locale
            or supported_locale(identity.language_code)
            or self.settings.locale
        )
        return Context(
            inbound=inbound,
            uow=uow,
            identity=identity,
            member=member,
            state=state,
            clock=self.clock,
            settings=self.settings,
            locale=locale,
            staff=arrival.staff,
            quota_reader=self.quota_reader,
        )

    @staticmethod
    async def _save_state(ctx: Context) -> None:
        if not ctx.state_changed:
            return
        channel, user_id = ctx.inbound.identity.channel.value, ctx.inbound.identity.user_id
        if ctx.state is None:
            await ctx.uow.conversations.clear(channel, user_id)
            return
        now = ctx.now
        await ctx.uow.conversations.save(
            channel,
            user_id,
            ctx.state.flow,
            ctx.state.step,
            ctx.state.data,
            now,
            now + ctx.state.ttl,
        )

    async def _remember_failed(self, inbound: Inbound) -> bool:
        """Record a failed event as handled; False when the database refused even that."""
        if not inbound.event_id:
            return True
        try:
            async with self._uow() as uow:
                await uow.events.first_time(inbound.event_id, self.clock.now())
                await uow.commit()
        except Exception:
            log.exception("could not record failed event %s", inbound.event_id)
            return False
        return True


_NONE = timedelta(0)


def _flow_state(row: StateView | None, now: datetime) -> FlowState | None:
    """The stored conversation, none once expired. It keeps the life it was begun with (the
    sign-up's 24 hours; saved as ``expires_at - updated_at``), so each answer extends it by
    that much again rather than by the default 30 minutes."""
    if row is None or row.expires_at <= now:
        return None
    ttl = row.expires_at - row.updated_at
    return FlowState(row.flow, row.step, dict(row.data), ttl if ttl > _NONE else DEFAULT_FLOW_TTL)
