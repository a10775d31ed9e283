"""The bus: one unit of work per event.

open unit of work → skip an event id already seen → load identity, member and conversation
state → route → save state → commit → return replies. The adapter delivers the replies only
after this returns, so nobody is told about points that were rolled back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from bot.clock import Clock
from bot.config import Settings
from bot.core.errors import DomainError
from bot.core.messages import Inbound, InboundKind, Reply
from bot.i18n import supported_locale, t
from handlers.campaigns.contact_events import record_contact_event
from handlers.context import Context, FlowState, QuotaReader
from handlers.router import Router
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)

#: how long processed event ids are kept (Telegram and LINE redeliver within hours, not weeks)
EVENT_MEMORY = timedelta(days=30)


class Bus:
    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        router: Router,
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

    async def handle(self, inbound: Inbound) -> list[Reply]:
        """Handle one event exactly once; returns what to send back to its author.

        A :class:`DomainError` undoes the handler's writes and becomes a friendly reply. Any
        other exception undoes everything, is logged, and the event is still recorded as
        handled (a redelivery would only fail the same way) with an apology to the user —
        unless the database cannot even record that: then the exception propagates, the
        adapter answers 5xx and the platform delivers the event again later.
        """
        try:
            return await self._handle(inbound)
        except Exception:
            log.exception("event %s from %s failed", inbound.event_id, inbound.identity)
            if not await self._remember_failed(inbound):
                raise
            return [Reply(text=t(self.settings.locale, "error.internal"))]

    async def _handle(self, inbound: Inbound) -> list[Reply]:
        async with self._uow() as uow:
            now = self.clock.now()
            if inbound.event_id and not await uow.events.first_time(inbound.event_id, now):
                log.info("duplicate event %s ignored", inbound.event_id)
                return []
            channel, user_id = inbound.identity.channel.value, inbound.identity.user_id
            identity = await uow.identities.touch(
                channel, user_id, now, inbound.display_name, inbound.language_code
            )
            if inbound.kind is InboundKind.UNFOLLOW:
                if identity.reachable and identity.member_id is not None:
                    await record_contact_event(uow, identity.member_id, channel, "blocked", now)
                identity.reachable = False
            elif not identity.reachable:
                identity.reachable = True  # they came back
                if identity.member_id is not None:
                    await record_contact_event(uow, identity.member_id, channel, "unblocked", now)
            member = await uow.members.get(identity.member_id) if identity.member_id else None
            if member is not None and member.erased_at is not None:
                member = None
            staff = await uow.staff.by_identity(channel, user_id)
            row = await uow.conversations.get(channel, user_id, now)
            state = None if row is None else FlowState(row.flow, row.step, dict(row.data))
            locale = (
                member.locale
                if member is not None
                else supported_locale(identity.language_code) or self.settings.locale
            )
            ctx = Context(
                inbound=inbound,
                uow=uow,
                identity=identity,
                member=member,
                state=state,
                clock=self.clock,
                settings=self.settings,
                locale=locale,
                staff=staff,
                quota_reader=self.quota_reader,
            )
            try:
                async with uow.savepoint():
                    replies = await self.router.route(ctx)
                    await self._save_state(ctx)
            except DomainError as error:
                replies = [Reply(text=t(ctx.locale, error.key, **error.params))]
            await uow.commit()
            if uow.outbox.enqueued and self.on_commit is not None:
                self.on_commit()  # messages to others go out now, not at the next poll
            return replies

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
