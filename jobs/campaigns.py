"""Campaign jobs: start scheduled campaigns when their time comes; mark drained ones sent.

Starting is idempotent: :meth:`Campaigns.claim_start` moves a campaign out of ``scheduled`` for
exactly one caller, so a job running twice (two processes, a retry) or racing an owner's
``/campaign send`` starts it once. Each campaign starts in its own transaction, so one that
fails (say, its segment rule no longer parses) does not hold the others back.

A scheduled campaign whose offer is over by the time it starts (the server was down at its
time), or good only at branches closed since it was made, is not sent: it is cancelled, and
the owners and managers are told why, once.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from bot.core.errors import DomainError
from bot.i18n import format_date, format_datetime, t
from jobs.app import App
from jobs.staff_notices import tell_staff
from shop.campaigns.launch import OfferBranchesClosed, OfferEnded, segment_env, start_campaign
from shop.profile import shop_names
from storage.models import Campaign
from storage.uow import UnitOfWork
from wording.campaigns import CampaignWording
from wording.coupons import branch_names

#: the staff notice of a cancelled campaign, per locale
NoticeText = Callable[[str], str]

log = logging.getLogger(__name__)


async def start_due_campaigns(app: App) -> list[int]:
    """Start every ``scheduled`` campaign whose ``scheduled_at`` has come; returns their ids."""
    now = app.clock.now()
    async with app.uow() as uow:
        due = list(await uow.campaigns.due_scheduled(now))
    started: list[int] = []
    told = False
    for campaign_id in due:
        try:
            async with app.uow() as uow:
                campaign = await uow.campaigns.get(campaign_id)
                if campaign is None:
                    continue
                env = await segment_env(uow, now, app.settings.tz)
                # {shop} in each recipient's language: the names, not one locale's name
                wording = CampaignWording(await shop_names(uow, app.settings.shop_name))
                result = await start_campaign(uow, campaign, env, now, wording=wording)
                await uow.commit()
        except OfferEnded as ended:
            told = await _cancel_ended(app, ended, now) or told
            continue
        except OfferBranchesClosed as closed:
            told = await _cancel_closed(app, closed, now) or told
            continue
        except DomainError as error:
            log.error("scheduled campaign %s could not start: %r", campaign_id, error)
            continue
        if result.started:
            started.append(campaign_id)
            log.info("scheduled campaign %s started: %s queued", campaign_id, result.queued)
    if (started or told) and app.bus.on_commit is not None:
        app.bus.on_commit()  # wake the dispatcher
    return started


async def _cancel_ended(app: App, ended: OfferEnded, now: datetime) -> bool:
    """Cancel a scheduled campaign whose offer is over and tell the staff why."""
    tz = app.settings.tz

    async def notice(_uow: UnitOfWork, campaign: Campaign) -> NoticeText:
        name, scheduled_at = campaign.name, campaign.scheduled_at
        assert scheduled_at is not None
        return lambda locale: t(
            locale,
            "campaign.offer_ended_not_sent",
            id=ended.campaign_id,
            name=name,
            when=format_datetime(scheduled_at, locale, tz),
            day=format_date(ended.last_day, locale),
        )

    last_day = ended.last_day.isoformat()
    cancelled = await _cancel(app, ended.campaign_id, now, notice, "offer_ended", last_day=last_day)
    if cancelled:
        log.warning(
            "scheduled campaign %s not sent: its offer ended %s", ended.campaign_id, last_day
        )
    return cancelled


async def _cancel_closed(app: App, closed: OfferBranchesClosed, now: datetime) -> bool:
    """Cancel a scheduled campaign whose offer's branches are all closed and tell the staff."""
    tz = app.settings.tz

    async def notice(uow: UnitOfWork, campaign: Campaign) -> NoticeText:
        name, scheduled_at = campaign.name, campaign.scheduled_at
        assert scheduled_at is not None
        names = {lang: await branch_names(uow, closed.codes, lang) for lang in ("th", "en")}
        return lambda locale: t(
            locale,
            "campaign.offer_branches_closed_not_sent",
            id=closed.campaign_id,
            name=name,
            when=format_datetime(scheduled_at, locale, tz),
            branches=names.get(locale, names["en"]),
        )

    codes = list(closed.codes)
    reason = "offer_branches_closed"
    cancelled = await _cancel(app, closed.campaign_id, now, notice, reason, branches=codes)
    if cancelled:
        log.warning("scheduled campaign %s not sent: branches %s closed", closed.campaign_id, codes)
    return cancelled


async def _cancel(
    app: App,
    campaign_id: int,
    now: datetime,
    notice: Callable[[UnitOfWork, Campaign], Awaitable[NoticeText]],
    reason: str,
    **details: Any,
) -> bool:
    """Cancel a scheduled campaign that cannot go out (if still scheduled: an owner may have
    acted meanwhile) and queue ``notice`` to every owner and manager; True when it was
    cancelled."""
    async with app.uow() as uow:
        campaign = await uow.campaigns.get(campaign_id)
        if campaign is None or campaign.scheduled_at is None:
            return False
        if not await uow.campaigns.move_status(campaign.id, "scheduled", "cancelled"):
            return False
        campaign.status, campaign.finished_at = "cancelled", now
        text_for = await notice(uow, campaign)
        await uow.audit.record(
            "system", "campaign.cancelled", now, campaign_id=campaign.id, reason=reason, **details
        )
        cause = f"campaign:{reason}:{campaign_id}"
        await tell_staff(uow, ("owner", "manager"), cause, text_for, now, app.settings.locale)
        await uow.commit()
    return True


async def finish_drained_campaigns(app: App) -> list[int]:
    """Mark ``sending`` campaigns with no pending messages left as ``sent``."""
    now = app.clock.now()
    finished: list[int] = []
    async with app.uow() as uow:
        for campaign in await uow.campaigns.sending():
            if await uow.campaigns.pending_count(campaign.id) > 0:
                continue
            # a cancel committed since the list was read withdrew what was pending: it stays
            # cancelled (the move waits for a cancel in flight and then finds it cancelled)
            if await uow.campaigns.move_status(campaign.id, "sending", "sent"):
                campaign.finished_at = now
                finished.append(campaign.id)
        await uow.commit()
    return finished


async def run(app: App) -> None:
    """The periodic job: start what is due, then close what has drained."""
    await start_due_campaigns(app)
    await finish_drained_campaigns(app)
