"""A promotion goes only to a member who may still get it, at the moment it is sent.

The contact policy decides who is enrolled in a campaign; this module keeps that decision true
until the message leaves. Promotions (outbox rows with ``promotional = true``) are withdrawn —
marked ``cancelled``, counted as withdrawn in campaign stats — when:

- the member sends ``/stop`` or is erased: :func:`withdraw_promotions`, in that same unit of
  work, withdraws every pending promotion to them, queued, deferred by the quiet hours or
  already claimed by a dispatcher;
- the dispatcher takes a row (:func:`claim_sendable`) and, while its claimed rows wait for
  their turn behind the rate limit, again at intervals (:func:`still_to_send`): a row whose
  member has no marketing consent any more, was erased, or whose chat account blocked the bot
  is withdrawn instead of sent. That catches what the first cannot: a campaign launch that
  read the consent just before the ``/stop`` and queued its row just after. A win-back whose
  member bought since it was queued is withdrawn the same way: "we miss you" held by the
  quiet hours overnight is wrong once they were at the counter in the morning. A campaign
  message whose offer has ended (its last valid day is over, shop time) is withdrawn when
  claimed too: sent on the offer's last evening, it waited out the quiet hours, and an offer
  nobody can use any more is no promotion. So is one whose offer is good only at branches
  that have all closed since it was queued.

Transactional rows (receipts, points and coupon notices) are never withdrawn here; staff
messages only when their staff member is removed (:func:`withdraw_staff_messages`). A campaign
whose last pending row was withdrawn becomes ``sent`` as if it had been sent
(:func:`shop.campaigns.tracking.finish_if_done`): the member who left does not keep it open.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.core.keys import CampaignMessageKey
from shop.campaigns.launch import closed_offer_branches
from shop.campaigns.offers import Offer
from shop.campaigns.tracking import finish_if_done
from storage.repositories.outbox import QueuedMessage
from storage.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class Claimed:
    """A dispatcher's claimed batch: the rows to send, and how many were withdrawn instead."""

    messages: list[QueuedMessage]
    withdrawn: int


async def withdraw_promotions(uow: UnitOfWork, member_id: int, now: datetime) -> int:
    """Withdraw every pending promotion to ``member_id`` (``/stop``, erasure); receipts and
    other transactional rows stay. Returns how many were withdrawn."""
    keys = await uow.withdrawals.member_promotions(member_id)
    await _finish_campaigns(uow, keys, now)
    return len(keys)


async def withdraw_staff_messages(uow: UnitOfWork, staff_id: int) -> int:
    """Withdraw every unsent message to staff member ``staff_id`` (their removal): inbox
    alerts quote customers' words, and someone no longer on the team must not read them.
    Returns how many were withdrawn."""
    return len(await uow.withdrawals.staff_messages(staff_id))


async def claim_sendable(
    uow: UnitOfWork,
    now: datetime,
    limit: int,
    lease_until: datetime,
    channels: Collection[str],
    recipients: Mapping[str, Collection[str]] | None = None,
    *,
    urgent_only: bool = False,
    tz: ZoneInfo | None = None,
) -> Claimed:
    """Claim up to ``limit`` due rows of ``channels`` (of a channel in ``recipients``, only
    those to its users) until ``lease_until`` (see ``Outbox.claim``) and withdraw the
    promotions among them that their member may no longer get: one more statement for the
    whole batch, none per row. ``urgent_only``: direct replies only. ``tz``: the shop's time
    zone, whose days say when an offer ended (None: offers are not looked at)."""
    batch = await uow.outbox.claim(
        now, limit, lease_until, channels, recipients, urgent_only=urgent_only
    )
    ended = await _offer_ended(uow, batch, now, tz) if tz is not None else set()
    unwanted = {message.id for message in batch if message.unwanted} | ended
    await _finish_campaigns(uow, await uow.withdrawals.rows(unwanted), now)
    return Claimed([message for message in batch if message.id not in unwanted], len(unwanted))


async def _offer_ended(
    uow: UnitOfWork, batch: Collection[QueuedMessage], now: datetime, tz: ZoneInfo
) -> set[int]:
    """The ids of the campaign messages in ``batch`` whose campaign's offer has ended at
    ``now``, or is good only at branches that are all closed now: one statement for the
    batch's campaigns (a claim holds a few), and one more for each of them whose offer names
    its branches (:func:`~shop.campaigns.launch.closed_offer_branches`), none per row.
    A fan-out claims thousands of rows of one campaign: rows are grouped by their key's
    campaign part as a plain string, and one key of each group is parsed."""
    groups: dict[str, list[int]] = {}
    first: dict[str, str] = {}
    for message in batch:
        if message.promotional:
            key = message.dedupe_key
            part = key[: key.rfind(":")]
            ids = groups.get(part)
            if ids is None:
                groups[part] = ids = []
                first[part] = key
            ids.append(message.id)
    by_campaign: dict[int, list[int]] = {}
    for part, ids in groups.items():
        if (parsed := CampaignMessageKey.parse(first[part])) is not None:
            by_campaign.setdefault(parsed.campaign_id, []).extend(ids)
    ended: set[int] = set()
    for campaign_id, stored in (await uow.campaigns.offers(by_campaign.keys())).items():
        offer = Offer.from_json(stored) if stored else None
        if offer is not None and (
            offer.ended_by(now, tz) or await closed_offer_branches(uow, offer)
        ):
            ended.update(by_campaign[campaign_id])
    return ended


async def still_to_send(uow: UnitOfWork, message_ids: Collection[int], now: datetime) -> set[int]:
    """Of claimed rows not sent yet, the ids still to send: promotions no longer wanted are
    withdrawn, rows withdrawn or deleted meanwhile (``/stop``, erasure, a cancelled campaign)
    are left out. Two statements for any number of rows."""
    await _finish_campaigns(uow, await uow.withdrawals.unwanted(message_ids), now)
    return await uow.withdrawals.pending_among(message_ids)


async def _finish_campaigns(uow: UnitOfWork, keys: Collection[str], now: datetime) -> None:
    """Once per campaign of the withdrawn ``keys``: ``sent`` if nothing of it is pending."""
    campaigns = {key.campaign_id for key in map(CampaignMessageKey.parse, keys) if key}
    for campaign_id in sorted(campaigns):
        await finish_if_done(uow, campaign_id, now)
