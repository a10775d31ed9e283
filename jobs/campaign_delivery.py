"""What the dispatcher does for campaign rows (``dedupe_key = "cmp:<campaign>:<member>"``).

* After each promotional row's outcome (``sent``, ``failed``, ``unreachable``) it calls
  ``shop.campaigns.tracking.on_campaign_outcome(uow, dedupe_key, outcome, now)`` inside the
  unit of work that records the outcome (a no-op while that module is not there).
* LINE's monthly limit pauses the campaign: :func:`pause_for_quota` moves the campaign to
  ``paused``, parks its pending rows (due again only when resumed) and tells the owners once.
  :func:`resume_campaign` undoes it (``/campaign resume`` calls it).
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Awaitable, Callable, Collection
from datetime import datetime, timedelta
from typing import Any, Final, cast

from sqlalchemy import update

from bot.core.messages import Reply
from bot.core.wire import replies_to_payload
from bot.i18n import supported_locale, t
from storage.models import Campaign, OutboxMessage
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)

CAMPAIGN_PREFIX: Final = "cmp:"
#: how far ahead a paused campaign's rows are parked (resuming brings them back at once)
PARKED: Final = timedelta(days=3650)

OutcomeHook = Callable[[UnitOfWork, str, str, datetime], Awaitable[None]]


def campaign_of(dedupe_key: str) -> int | None:
    """The campaign id of a campaign row's key, else None."""
    if not dedupe_key.startswith(CAMPAIGN_PREFIX):
        return None
    head = dedupe_key[len(CAMPAIGN_PREFIX) :].split(":", 1)[0]
    return int(head) if head.isdigit() else None


def _rows_of(campaign_id: int) -> Any:
    return OutboxMessage.dedupe_key.startswith(f"{CAMPAIGN_PREFIX}{campaign_id}:", autoescape=True)


async def _noop(uow: UnitOfWork, dedupe_key: str, outcome: str, now: datetime) -> None:
    return None


def outcome_hook() -> OutcomeHook:
    """The tracking module's ``on_campaign_outcome``, or a no-op while it does not exist."""
    try:
        module = importlib.import_module("shop.campaigns.tracking")
    except ImportError:
        return _noop
    return cast(OutcomeHook, getattr(module, "on_campaign_outcome", _noop))


async def pause_for_quota(
    uow: UnitOfWork, campaign_ids: Collection[int], now: datetime, shop_locale: str
) -> list[int]:
    """Pause ``campaign_ids`` that are sending, park their pending rows and queue one notice
    to every owner per campaign (the notice's key makes a repeat queue nothing). Returns the
    campaigns paused now."""
    paused: list[int] = []
    for campaign_id in sorted(set(campaign_ids)):
        changed = await uow.session.execute(
            update(Campaign)
            .where(Campaign.id == campaign_id, Campaign.status == "sending")
            .values(status="paused")
            .execution_options(synchronize_session=False)
        )
        pending = await _park(uow, campaign_id, now + PARKED)
        if int(changed.rowcount or 0) == 0:  # type: ignore[attr-defined]
            continue
        paused.append(campaign_id)
        campaign = await uow.campaigns.get(campaign_id)
        name = campaign.name if campaign is not None else str(campaign_id)
        await _tell_owners(uow, campaign_id, name, pending, now, shop_locale)
        log.warning("campaign %s paused: LINE monthly quota used up", campaign_id)
    return paused


async def resume_campaign(uow: UnitOfWork, campaign_id: int, now: datetime) -> int:
    """Set a paused campaign sending again and make its parked rows due now; returns how
    many rows were brought back (0 if the campaign was not paused)."""
    changed = await uow.session.execute(
        update(Campaign)
        .where(Campaign.id == campaign_id, Campaign.status == "paused")
        .values(status="sending")
        .execution_options(synchronize_session=False)
    )
    if int(changed.rowcount or 0) == 0:  # type: ignore[attr-defined]
        return 0
    return await _park(uow, campaign_id, now)


async def _park(uow: UnitOfWork, campaign_id: int, until: datetime) -> int:
    result = await uow.session.execute(
        update(OutboxMessage)
        .where(_rows_of(campaign_id), OutboxMessage.status == "pending")
        .values(not_before=until)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def _tell_owners(
    uow: UnitOfWork, campaign_id: int, name: str, pending: int, now: datetime, shop_locale: str
) -> None:
    for owner in await uow.outbox.staff_recipients(["owner"]):
        if not owner.reachable:
            continue
        locale = owner.member_locale or supported_locale(owner.language_code) or shop_locale
        text = t(locale, "dispatch.quota_paused", campaign=name, pending=pending, id=campaign_id)
        await uow.outbox.enqueue(
            f"dispatch:quota:{campaign_id}|s{owner.staff_id}",
            owner.channel,
            owner.user_id,
            replies_to_payload([Reply(text=text)]),
            now,
        )
