"""Responses to a promotion: its button (``cmp:<campaign id>``), and delivery outcomes.

Pressing the button records a click (the first press) and claims the offer: a coupon the
cashier redeems with ``/redeem``. Only a *recipient* of that campaign may press it — a hold-out
member or a stranger with a forged button is refused and nothing is recorded, so the hold-out
stays a clean comparison. A double tap claims one coupon: the claim is a conditional
``UPDATE … WHERE claimed_at IS NULL`` whose row count decides who issues it (the second press
waits for the first's row lock on PostgreSQL; SQLite serialises writers) and is then shown the
same coupon. The chat handler (``handlers.campaigns.tracking``) words the outcome.

The dispatcher calls :func:`on_campaign_outcome` after it stored the outcome of a promotional
outbox row, in the same unit of work: an unreachable member becomes a ``blocked`` contact event,
and the campaign becomes ``sent`` once none of its rows is pending any more.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal
from zoneinfo import ZoneInfo

from bot.core.keys import CampaignMessageKey
from shop.campaigns.contact_events import record_contact_event
from shop.campaigns.launch import closed_offer_branches
from shop.campaigns.offers import Offer
from shop.coupons import issue_coupon
from storage.models import Campaign, Coupon
from storage.uow import UnitOfWork

RECIPIENT: Final = "recipient"
#: statuses in which a claim is still honoured (a paused campaign's sent messages still count)
OPEN_STATUSES: Final = ("sending", "paused", "sent")
SELF_ACTOR: Final = "customer"

#: the (Thai, English) titles of the coupon a claim of an offer issues (the caller words them)
CouponTitles = Callable[[Offer], tuple[str, str]]
Outcome = Literal["not_for_you", "thanks", "offer_ended", "coupon"]


@dataclass(frozen=True, slots=True)
class PromotionResponse:
    """What a press did: ``coupon`` is the member's coupon when ``outcome`` is ``coupon``."""

    outcome: Outcome
    coupon: Coupon | None = None


@dataclass(frozen=True, slots=True)
class Press:
    """Who pressed the button, where and when (``tz``: the shop's time zone)."""

    member_id: int
    channel: str
    now: datetime
    tz: ZoneInfo


async def press_promotion(
    uow: UnitOfWork, campaign_id: int, press: Press, titles: CouponTitles
) -> PromotionResponse:
    """A member pressed campaign ``campaign_id``'s button: refused (``not_for_you``) unless
    they are a recipient; otherwise the click is recorded (once) and the offer claimed
    (``coupon``), or there is nothing to claim (``thanks``) or no more (``offer_ended``)."""
    row = await uow.promotions.audience_row(campaign_id, press.member_id)
    campaign = await uow.campaigns.get(campaign_id)
    if row is None or row.group != RECIPIENT or row.excluded is not None or campaign is None:
        return PromotionResponse("not_for_you")
    if await uow.promotions.mark_clicked(campaign_id, press.member_id, press.now):
        await uow.audit.record(
            SELF_ACTOR,
            "campaign.clicked",
            press.now,
            member_id=press.member_id,
            channel=press.channel,
            campaign_id=campaign_id,
        )
    if not campaign.offer:
        return PromotionResponse("thanks")
    coupon = await claim_offer(uow, campaign, Offer.from_json(campaign.offer), press, titles)
    if coupon is None:
        return PromotionResponse("offer_ended")
    return PromotionResponse("coupon", coupon)


async def claim_offer(
    uow: UnitOfWork, campaign: Campaign, offer: Offer, press: Press, titles: CouponTitles
) -> Coupon | None:
    """The member's coupon of this campaign: issued on the first claim, the same one after
    (a further one only when the offer allows several per member and the last was used).
    None when the offer can no longer be claimed (ended, or good only at branches closed
    since) and the member holds no coupon of it."""
    member_id, now = press.member_id, press.now
    open_ = (
        campaign.status in OPEN_STATUSES
        and (offer.valid_until is None or offer.valid_until >= now.astimezone(press.tz).date())
        and not await closed_offer_branches(uow, offer)  # a coupon no branch could redeem
    )
    if open_ and await uow.promotions.mark_claimed(campaign.id, member_id, now):
        return await _issue(uow, campaign, offer, press, titles)
    row = await uow.promotions.audience_row(campaign.id, member_id)
    coupon = await uow.coupons.get(row.coupon_id) if row and row.coupon_id else None
    if coupon is None or coupon.status != "redeemed" or not open_:
        return coupon
    if await uow.promotions.coupons_held(campaign.id, member_id) >= offer.per_member:
        return coupon
    if await uow.promotions.release_coupon(campaign.id, member_id, coupon.id):
        return await _issue(uow, campaign, offer, press, titles)
    return coupon


async def _issue(
    uow: UnitOfWork, campaign: Campaign, offer: Offer, press: Press, titles: CouponTitles
) -> Coupon:
    conditions = offer.conditions() or {}
    if offer.valid_from is not None and offer.valid_from > press.now.astimezone(press.tz).date():
        conditions["from"] = offer.valid_from.isoformat()
    title_th, title_en = titles(offer)
    coupon = await issue_coupon(
        uow,
        press.member_id,
        title_th,
        title_en,
        offer.expires_at(press.now, press.tz),
        press.now,
        campaign_id=campaign.id,
        branch_codes=offer.branches,
        conditions=conditions or None,
    )
    await uow.promotions.attach_coupon(campaign.id, press.member_id, coupon.id)
    await uow.audit.record(
        SELF_ACTOR,
        "campaign.claimed",
        press.now,
        member_id=press.member_id,
        channel=press.channel,
        campaign_id=campaign.id,
        coupon_id=coupon.id,
    )
    return coupon


async def on_campaign_outcome(
    uow: UnitOfWork, dedupe_key: str, outcome: str, now: datetime
) -> None:
    """The dispatcher's hook, called in the unit of work that stored a promotional row's
    ``outcome`` (``sent`` / ``failed`` / ``unreachable``), after storing it. Keys other than
    ``cmp:<campaign>:<member>`` are ignored. Safe to call more than once."""
    key = CampaignMessageKey.parse(dedupe_key)
    if key is None:
        return
    if outcome == "unreachable":
        row = await uow.promotions.audience_row(key.campaign_id, key.member_id)
        channel = row.channel if row is not None and row.channel else "unknown"
        await record_contact_event(uow, key.member_id, channel, "blocked", now)
    # with the unit of work's next statement: nothing here reads whether this call finished it
    await uow.promotions.finish_when_done(key.campaign_id, now)


async def finish_if_done(uow: UnitOfWork, campaign_id: int, now: datetime) -> bool:
    """Mark a ``sending`` campaign ``sent`` when none of its outbox rows is pending; True when
    this call did it (once, however many callers race)."""
    return await uow.promotions.finish_if_done(campaign_id, now)
