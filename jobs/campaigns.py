"""Campaign jobs: start scheduled campaigns when their time comes; mark drained ones sent.

Starting is idempotent: :meth:`Campaigns.claim_start` moves a campaign out of ``scheduled`` for
exactly one caller, so a job running twice (two processes, a retry) or racing an owner's
``/campaign send`` starts it once. Each campaign starts in its own transaction, so one that
fails (say, its segment rule no longer parses) does not hold the others back.
"""

from __future__ import annotations

import logging

from bot.core.errors import DomainError
from jobs.app import App
from shop.campaigns.launch import segment_env, start_campaign
from shop.profile import shop_names
from wording.campaigns import CampaignWording

log = logging.getLogger(__name__)


async def start_due_campaigns(app: App) -> list[int]:
    """Start every ``scheduled`` campaign whose ``scheduled_at`` has come; returns their ids."""
    now = app.clock.now()
    async with app.uow() as uow:
        due = list(await uow.campaigns.due_scheduled(now))
    started: list[int] = []
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
        except DomainError as error:
            log.error("scheduled campaign %s could not start: %r", campaign_id, error)
            continue
        if result.started:
            started.append(campaign_id)
            log.info("scheduled campaign %s started: %s queued", campaign_id, result.queued)
    if started and app.bus.on_commit is not None:
        app.bus.on_commit()  # wake the dispatcher
    return started


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
