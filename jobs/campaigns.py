"""Campaign jobs: start scheduled campaigns when their time comes; mark drained ones sent.

Starting is idempotent: :meth:`Campaigns.claim_start` moves a campaign out of ``scheduled`` for
exactly one caller, so a job running twice (two processes, a retry) or racing an owner's
``/campaign send`` starts it once. Each campaign starts in its own transaction, so one that
fails (say, its segment rule no longer parses) does not hold the others back.

A scheduled campaign whose offer is over by the time it starts (the server was down at its
time) is not sent: it is cancelled, and the owners and managers are told why, once.
"""

from __future__ import annotations

import logging
from datetime import datetime

from bot.core.errors import DomainError
from bot.i18n import format_date, format_datetime, t
from jobs.app import App
from jobs.staff_notices import tell_staff
from shop.campaigns.launch import OfferEnded, segment_env, start_campaign
from shop.profile import shop_names
from wording.campaigns import CampaignWording

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
    """Cancel a scheduled campaign whose offer is over (if still scheduled: an owner may have
    acted meanwhile) and queue the reason to every owner and manager; True when it was cancelled."""
    tz = app.settings.tz
    async with app.uow() as uow:
        campaign = await uow.campaigns.get(ended.campaign_id)
        if campaign is None or campaign.scheduled_at is None:
            return False
        if not await uow.campaigns.move_status(campaign.id, "scheduled", "cancelled"):
            return False
        campaign.status, campaign.finished_at = "cancelled", now
        name, scheduled_at = campaign.name, campaign.scheduled_at
        last_day = ended.last_day.isoformat()
        await uow.audit.record(
            "system",
            "campaign.cancelled",
            now,
            campaign_id=campaign.id,
            reason="offer_ended",
            last_day=last_day,
        )

        def text_for(locale: str) -> str:
            return t(
                locale,
                "campaign.offer_ended_not_sent",
                id=ended.campaign_id,
                name=name,
                when=format_datetime(scheduled_at, locale, tz),
                day=format_date(ended.last_day, locale),
            )

        cause = f"campaign:offer_ended:{ended.campaign_id}"
        await tell_staff(uow, ("owner", "manager"), cause, text_for, now, app.settings.locale)
        await uow.commit()
    log.warning("scheduled campaign %s not sent: its offer ended %s", campaign.id, ended.last_day)
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
