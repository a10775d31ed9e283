"""Responses to a promotion: the ``cmp:<campaign id>`` button, and delivery outcomes.

Pressing the button records a click (the first press) and claims the offer: a coupon the
cashier redeems with ``/redeem``. Only a *recipient* of that campaign may press it — a hold-out
member or a stranger with a forged button is refused and nothing is recorded, so the hold-out
stays a clean comparison. A double tap claims one coupon: the claim is a conditional
``UPDATE … WHERE claimed_at IS NULL`` whose row count decides who issues it (the second press
waits for the first's row lock on PostgreSQL; SQLite serialises writers) and is then shown the
same coupon.

The dispatcher calls :func:`on_campaign_outcome` after it stored the outcome of a promotional
outbox row, in the same unit of work: an unreachable member becomes a ``blocked`` contact event,
and the campaign becomes ``sent`` once none of its rows is pending any more.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from sqlalchemy import Update, exists, func, select, update

from bot.core.messages import Button, Reply
from handlers.context import Context
from handlers.router import Audience, Router
from shop.campaigns.contact_events import record_contact_event
from shop.campaigns.offers import Offer
from shop.coupon_windows import describe_conditions
from shop.coupons import coupon_reply, issue_coupon
from storage.models import Campaign, CampaignMember, Coupon, OutboxMessage
from storage.uow import UnitOfWork

ACTION: Final = "cmp"
RECIPIENT: Final = "recipient"
#: statuses in which a claim is still honoured (a paused campaign's sent messages still count)
OPEN_STATUSES: Final = ("sending", "paused", "sent")
SELF_ACTOR: Final = "customer"


def promotion_button(label: str, campaign_id: int) -> Button:
    """The button a promotion carries (``cmp:<id>``, far below the 64-byte limit)."""
    return Button(label, f"{ACTION}:{campaign_id}")


def campaign_key(campaign_id: int, member_id: int) -> str:
    """The outbox ``dedupe_key`` of one campaign message, ``cmp:<campaign>:<member>``."""
    return f"{ACTION}:{campaign_id}:{member_id}"


def parse_campaign_key(dedupe_key: str) -> tuple[int, int] | None:
    """(campaign id, member id) of a campaign message's key; None for any other key."""
    prefix, _, rest = dedupe_key.partition(":")
    campaign, _, member = rest.partition(":")
    if prefix != ACTION or not campaign.isdigit() or not member.isdigit():
        return None
    return int(campaign), int(member)


async def press_promotion(ctx: Context) -> list[Reply]:
    """``cmp:<campaign id>`` (members): click, then claim the offer or say thanks."""
    member = ctx.member
    assert member is not None
    if not ctx.args.isdigit():
        return [ctx.reply("tracking.not_for_you")]
    campaign_id = int(ctx.args)
    row = await _audience_row(ctx.uow, campaign_id, member.id)
    campaign = await ctx.uow.session.get(Campaign, campaign_id)
    if row is None or row.group != RECIPIENT or row.excluded is not None or campaign is None:
        return [ctx.reply("tracking.not_for_you")]
    first_click = await _click(ctx.uow, campaign_id, member.id, ctx.now)
    if first_click:
        await ctx.uow.audit.record(
            SELF_ACTOR,
            "campaign.clicked",
            ctx.now,
            member_id=member.id,
            channel=ctx.channel,
            campaign_id=campaign_id,
        )
    if not campaign.offer:
        return [ctx.reply("tracking.thanks")]
    offer = Offer.from_json(campaign.offer)
    coupon = await claim_offer(ctx, campaign, offer)
    if coupon is None:
        return [ctx.reply("tracking.offer_ended")]
    shown = await coupon_reply(ctx.uow, coupon, ctx.locale, ctx.settings.tz)
    if coupon.conditions:
        when = describe_conditions(coupon.conditions, ctx.locale)
        text = f"{shown.text}\n{ctx.t('tracking.valid_when', when=when)}"
        shown = Reply(text=text, attachment=shown.attachment)
    return [shown]


async def claim_offer(ctx: Context, campaign: Campaign, offer: Offer) -> Coupon | None:
    """The member's coupon of this campaign: issued on the first claim, the same one after
    (a further one only when the offer allows several per member and the last was used).
    None when the offer can no longer be claimed and the member holds no coupon of it."""
    assert ctx.member is not None
    uow, member_id, now = ctx.uow, ctx.member.id, ctx.now
    cm = CampaignMember
    mine = (cm.campaign_id == campaign.id, cm.member_id == member_id)
    open_ = campaign.status in OPEN_STATUSES and (
        offer.valid_until is None or offer.valid_until >= now.astimezone(ctx.settings.tz).date()
    )
    if open_ and await _won(uow, update(cm).where(*mine, cm.claimed_at.is_(None)), claimed_at=now):
        return await _issue(ctx, campaign, offer)
    row = await _audience_row(uow, campaign.id, member_id)
    coupon = await uow.coupons.get(row.coupon_id) if row and row.coupon_id else None
    if coupon is None or coupon.status != "redeemed" or not open_:
        return coupon
    held = await uow.session.scalar(
        select(func.count(Coupon.id)).where(
            Coupon.campaign_id == campaign.id, Coupon.member_id == member_id
        )
    )
    if int(held or 0) >= offer.per_member:
        return coupon
    if await _won(uow, update(cm).where(*mine, cm.coupon_id == coupon.id), coupon_id=None):
        return await _issue(ctx, campaign, offer)
    return coupon


async def _won(uow: UnitOfWork, statement: Update, **values: object) -> bool:
    """Run a conditional update of one audience row; True when it changed the row."""
    result = await uow.session.execute(
        statement.values(**values).execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def _issue(ctx: Context, campaign: Campaign, offer: Offer) -> Coupon:
    assert ctx.member is not None
    tz = ctx.settings.tz
    conditions = offer.conditions() or {}
    if offer.valid_from is not None and offer.valid_from > ctx.now.astimezone(tz).date():
        conditions["from"] = offer.valid_from.isoformat()
    coupon = await issue_coupon(
        ctx.uow,
        ctx.member.id,
        offer.title("th"),
        offer.title("en"),
        offer.expires_at(ctx.now, tz),
        ctx.now,
        campaign_id=campaign.id,
        branch_codes=offer.branches,
        conditions=conditions or None,
    )
    await ctx.uow.session.execute(
        update(CampaignMember)
        .where(CampaignMember.campaign_id == campaign.id, CampaignMember.member_id == ctx.member.id)
        .values(coupon_id=coupon.id)
        .execution_options(synchronize_session=False)
    )
    await ctx.uow.audit.record(
        SELF_ACTOR,
        "campaign.claimed",
        ctx.now,
        member_id=ctx.member.id,
        channel=ctx.channel,
        campaign_id=campaign.id,
        coupon_id=coupon.id,
    )
    return coupon


async def _audience_row(uow: UnitOfWork, campaign_id: int, member_id: int) -> CampaignMember | None:
    return await uow.session.get(CampaignMember, (campaign_id, member_id), populate_existing=True)


async def _click(uow: UnitOfWork, campaign_id: int, member_id: int, now: datetime) -> bool:
    cm = CampaignMember
    statement = update(cm).where(
        cm.campaign_id == campaign_id, cm.member_id == member_id, cm.clicked_at.is_(None)
    )
    return await _won(uow, statement, clicked_at=now)


async def on_campaign_outcome(
    uow: UnitOfWork, dedupe_key: str, outcome: str, now: datetime
) -> None:
    """The dispatcher's hook, called in the unit of work that stored a promotional row's
    ``outcome`` (``sent`` / ``failed`` / ``unreachable``), after storing it. Keys other than
    ``cmp:<campaign>:<member>`` are ignored. Safe to call more than once."""
    parsed = parse_campaign_key(dedupe_key)
    if parsed is None:
        return
    campaign_id, member_id = parsed
    if outcome == "unreachable":
        row = await _audience_row(uow, campaign_id, member_id)
        channel = row.channel if row is not None and row.channel else "unknown"
        await record_contact_event(uow, member_id, channel, "blocked", now)
    await finish_if_done(uow, campaign_id, now)


async def finish_if_done(uow: UnitOfWork, campaign_id: int, now: datetime) -> bool:
    """Mark a ``sending`` campaign ``sent`` when none of its outbox rows is pending; True when
    this call did it. One conditional update, so concurrent callers finish it once.

    It runs after every campaign row's outcome, so it must cost the same at the millionth row
    as at the first: the campaign's rows are found by their key prefix (``cmp:<id>:``) among
    the *pending* rows (``ix_outbox_pending``), which stops at the first one; going through
    the audience snapshot instead walked past every row already sent (quadratic in the
    audience)."""
    pending = exists().where(
        OutboxMessage.status == "pending",
        OutboxMessage.dedupe_key.startswith(f"{ACTION}:{campaign_id}:", autoescape=True),
    )
    result = await uow.session.execute(
        update(Campaign)
        .where(Campaign.id == campaign_id, Campaign.status == "sending", ~pending)
        .values(status="sent", finished_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def register(router: Router) -> None:
    """The promotion button (members only; the handler re-checks the audience row)."""
    router.action(ACTION, press_promotion, Audience.MEMBER)
