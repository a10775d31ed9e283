"""What the dispatcher does for campaign rows (``dedupe_key = "cmp:<campaign>:<member>"``).

* After each promotional row's outcome (``sent``, ``failed``, ``unreachable``) it calls
  :func:`shop.campaigns.tracking.on_campaign_outcome` inside the unit of work that records the
  outcome.
* LINE's monthly limit pauses the campaign: :func:`pause_for_quota` moves the campaign to
  ``paused``, parks its pending rows (due again only when resumed) and tells the owners once.
  :func:`shop.campaigns.launch.resume_campaign` undoes it (``/campaign resume`` calls it).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection
from datetime import datetime

from bot.core.keys import PROMOTION
from bot.i18n import t
from jobs.staff_notices import tell_staff
from shop.campaigns.launch import pause_campaign
from shop.campaigns.tracking import on_campaign_outcome
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)

OutcomeHook = Callable[[UnitOfWork, str, str, datetime], Awaitable[None]]


def campaign_of(dedupe_key: str) -> int | None:
    """The campaign id of a campaign row's key, else None."""
    prefix, _, rest = dedupe_key.partition(":")
    head = rest.split(":", 1)[0]
    return int(head) if prefix == PROMOTION and head.isdigit() else None


def outcome_hook() -> OutcomeHook:
    """The tracking rule the dispatcher calls after each promotional row's outcome."""
    return on_campaign_outcome


def finishes_only(hook: OutcomeHook) -> bool:
    """Whether ``hook``, told that a row was sent, only finishes the row's campaign when none of
    it is pending (the tracking rule: a conditional update that reads nothing back), so it may
    be told of a campaign whose accepted rows were all withdrawn meanwhile: the campaign is
    finished only as a withdrawal would finish it."""
    return hook is on_campaign_outcome


async def pause_for_quota(
    uow: UnitOfWork, campaign_ids: Collection[int], now: datetime, shop_locale: str
) -> list[int]:
    """Pause ``campaign_ids`` that are sending, park their pending rows and queue one notice
    to every owner per campaign (the notice's key makes a repeat queue nothing). Returns the
    campaigns paused now."""
    paused: list[int] = []
    for campaign_id in sorted(set(campaign_ids)):
        outcome = await pause_campaign(uow, campaign_id, now)
        if not outcome.paused:
            continue
        paused.append(campaign_id)
        campaign = await uow.campaigns.get(campaign_id)
        name = campaign.name if campaign is not None else str(campaign_id)
        await _tell_owners(uow, campaign_id, name, outcome.pending, now, shop_locale)
        log.warning("campaign %s paused: LINE monthly quota used up", campaign_id)
    return paused


async def _tell_owners(
    uow: UnitOfWork, campaign_id: int, name: str, pending: int, now: datetime, shop_locale: str
) -> None:
    def text_for(locale: str) -> str:
        return t(locale, "dispatch.quota_paused", campaign=name, pending=pending, id=campaign_id)

    cause = f"dispatch:quota:{campaign_id}"
    await tell_staff(uow, ["owner"], cause, text_for, now, shop_locale)
