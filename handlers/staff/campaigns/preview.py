"""/campaign preview and /campaign test: what a send would do, before it is done.

The preview runs the same eligibility query and hold-out rule as the send (so its numbers are
what the send will do, as of now), pages through the audience by member id, and shows reach per
channel, exclusions by reason, the hold-out, quiet hours, the LINE cost against the monthly
quota read live from LINE, how big an uplift the audience and hold-out can detect, and the
message rendered for a real member of the audience.

The detectable uplift: the smallest difference in revenue per member that the send's ``/stats``
would find (5% test, 80% power; :func:`shop.campaigns.uplift.minimum_detectable_effect`),
from what the same members spent over the last ``attribution_days`` once what they spent in
the four times as many days before that is accounted for — the regression adjustment ``/stats``
applies (:func:`shop.campaigns.uplift.residual_variance`); one SQL aggregate, like ``/stats``
itself. ``/campaign power ID AMOUNT`` turns it around: the hold-out that detects AMOUNT.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from bot.core.errors import ChannelError, DomainError
from bot.core.messages import Reply
from bot.i18n import channel_name, format_baht, format_date, format_datetime
from handlers.context import Context
from handlers.staff.acting import StaffAct
from handlers.staff.campaigns.power_button import power_button
from shop.campaigns.launch import (
    DEFAULT_BATCH,
    audience_rows,
    campaign_offer,
    in_holdout,
    segment_env,
)
from shop.campaigns.offers import Offer
from shop.campaigns.readiness import waiting_recipients
from shop.campaigns.uplift import (
    HISTORY_MULTIPLE,
    MIN_MEMBERS,
    Moments,
    minimum_detectable_effect,
    residual_variance,
)
from shop.contact_policy import (
    EXCLUSION_REASONS,
    ContactPolicy,
    eligibility,
    in_quiet_hours,
    load_policy,
    next_send_time,
    quiet_from,
)
from shop.loyalty import add_months, load_rules
from shop.profile import shown_shop_name
from storage.models import Campaign, Member
from storage.repositories.audiences import AudienceQuery
from storage.segments import SegmentEnv, resolve_segment
from storage.uow import UnitOfWork
from wording.campaigns import campaign_replies, member_values
from wording.loyalty import tier_name

#: the largest hold-out the wizard accepts, for the "bigger hold-out" suggestion
MAX_HOLDOUT_PCT = 50

CHANNELS = ("line", "telegram", "console")


@dataclass
class Reach:
    per_channel: Counter[str] = field(default_factory=Counter)
    excluded: Counter[str] = field(default_factory=Counter)
    holdout: int = 0
    sample: Any = None
    #: the eligible members' revenue over the past attribution window and the one before it
    #: (for the detectable uplift)
    past: Moments = field(default_factory=lambda: Moments(0, 0.0, 0.0))

    @property
    def recipients(self) -> int:
        return sum(self.per_channel.values())

    @property
    def left_out(self) -> int:
        return sum(self.excluded.values())


async def measure_reach(ctx: StaffAct, campaign: Campaign) -> Reach:
    """The audience as a send right now would split it (nothing is written)."""
    env = await segment_env(ctx.uow, ctx.now, ctx.settings.tz)
    try:
        _, members = await resolve_segment(ctx.uow, campaign.segment_name, env)
    except DomainError:  # the saved segment is gone: the campaign's rule snapshot stands
        _, members = await resolve_segment(ctx.uow, campaign.rule, env)
    policy = await load_policy(ctx.uow.settings)
    query = audience_rows(env, members, policy, await load_rules(ctx.uow))
    days = campaign.attribution_days
    reach = Reach(past=await past_revenue(ctx.uow, env, members, policy, days))
    last_id = 0
    while True:
        rows = await ctx.uow.audiences.page_rows(query, last_id, DEFAULT_BATCH)
        if not rows:
            return reach
        last_id = rows[-1].member_id
        for row in rows:
            if row.excluded is not None:
                reach.excluded[row.excluded] += 1
            elif in_holdout(campaign.id, row.member_id, campaign.holdout_pct):
                reach.holdout += 1
            else:
                reach.per_channel[row.channel] += 1
                reach.sample = reach.sample or row


async def past_revenue(
    uow: UnitOfWork, env: SegmentEnv, members: AudienceQuery, policy: ContactPolicy, days: int
) -> Moments:
    """Each eligible member's (not excluded) revenue over the ``days`` before ``env.now``
    (``y``), over the history before those (``x``, as ``/stats`` takes it) and over the
    ``days`` just before them (``w``), as the regression adjustment's aggregates in baht;
    members who bought nothing count as 0."""
    eligible = eligibility(env, members, policy=policy)
    since = env.now - timedelta(days=days)
    s = await uow.audiences.revenue_per_member(
        eligible,
        since,
        env.now,
        earlier_since=since - timedelta(days=HISTORY_MULTIPLE * days),
        matching_since=since - timedelta(days=days),
    )
    return Moments(
        s.members, s.total, s.total_sq, s.earlier, s.earlier_sq, s.cross, s.matching, s.matching_sq
    )


def detectable_line(ctx: StaffAct, campaign: Campaign, reach: Reach) -> str:
    """How big an uplift this send can show in ``/stats``, or why it cannot show one."""
    days = campaign.attribution_days
    if campaign.holdout_pct == 0:
        return ctx.t("campaign.preview_no_holdout")
    if reach.holdout < MIN_MEMBERS:
        measured = reach.recipients + reach.holdout
        # the share whose expected hold-out reaches the minimum, rounded up to a multiple of 5
        needed = math.ceil(MIN_MEMBERS * 100 / measured / 5) * 5 if measured else math.inf
        pct = max(needed, campaign.holdout_pct + 5)
        if pct > MAX_HOLDOUT_PCT:
            return ctx.t(
                "campaign.preview_audience_too_small", count=reach.holdout, min=MIN_MEMBERS
            )
        return ctx.t(
            "campaign.preview_holdout_too_small", count=reach.holdout, min=MIN_MEMBERS, pct=int(pct)
        )
    if reach.past.y == 0:
        return ctx.t("campaign.preview_detectable_no_sales", days=days)
    variance = residual_variance(reach.past)
    effect = minimum_detectable_effect(variance, reach.recipients, reach.holdout)
    plain = reach.past.sample().variance
    return "\n".join(
        (
            ctx.t(
                "campaign.preview_detectable_adjusted",
                recipients=reach.recipients,
                holdout=reach.holdout,
                effect=_baht(ctx, effect),
                plain=_baht(ctx, minimum_detectable_effect(plain, reach.recipients, reach.holdout)),
                days=days,
                history=HISTORY_MULTIPLE * days,
            ),
            ctx.t("campaign.preview_target_hint", id=campaign.id),
        )
    )


def _baht(ctx: StaffAct, value: float) -> str:
    return format_baht(Decimal(round(value)), ctx.locale)


def flow_text(ctx: StaffAct, reach: Reach) -> str:
    """In the segment → left out → hold-out → sent to: the words preview, send and /stats
    share for the same counts."""
    return ctx.t(
        "campaign.flow",
        segment=reach.recipients + reach.holdout + reach.left_out,
        left_out=reach.left_out,
        holdout=reach.holdout,
        recipients=reach.recipients,
    )


async def _quota_line(ctx: StaffAct, line_recipients: int) -> str:
    if ctx.quota_reader is None:
        return ctx.t("campaign.quota_unknown")
    try:
        limit, used = await ctx.quota_reader()
    except ChannelError:  # refused, or slow to answer (bot.core.quota)
        return ctx.t("campaign.quota_unanswered")
    if limit is None:
        return ctx.t("campaign.quota_unlimited", used=used)
    left = max(limit - used, 0)
    key = "campaign.quota_exceeded" if line_recipients > left else "campaign.quota_ok"
    return ctx.t(key, limit=limit, used=used, left=left, needed=line_recipients)


async def preview(ctx: Context, campaign: Campaign) -> list[Reply]:
    """The preview text, then the message rendered for the first recipient (by member id)."""
    reach = await measure_reach(ctx, campaign)
    lines = [ctx.t("campaign.preview_title", id=campaign.id, name=campaign.name)]
    lines += await preview_lines(ctx, campaign, reach)
    # the button sizes the hold-out for a target the owner types (handlers.staff.campaigns.power)
    buttons = (power_button(ctx, campaign),) if campaign.holdout_pct and reach.past.y else ()
    replies = [Reply(text="\n".join(lines), buttons=buttons)]
    if reach.sample is not None:
        replies.append(await sample_message(ctx, campaign, reach.sample))
    return replies


async def preview_lines(ctx: StaffAct, campaign: Campaign, reach: Reach) -> list[str]:
    """The preview's numbers, one line each (the chat and the web console show these)."""
    lines: list[str] = []
    lines.append(ctx.t("campaign.preview_flow", flow=flow_text(ctx, reach)))
    lines.append(ctx.tn("campaign.preview_reach", reach.recipients))
    for channel in CHANNELS:
        if reach.per_channel[channel]:
            lines.append(
                ctx.t(
                    "campaign.preview_channel",
                    channel=channel_name(ctx.locale, channel),
                    count=reach.per_channel[channel],
                )
            )
    for waiting in waiting_recipients(reach.per_channel, ctx.settings.connected_channels):
        name = channel_name(ctx.locale, waiting.channel)
        lines.append(ctx.tn("campaign.preview_waiting", waiting.count, channel=name))
    lines.append(ctx.tn("campaign.preview_holdout", reach.holdout, pct=campaign.holdout_pct))
    lines.append(detectable_line(ctx, campaign, reach))
    for reason in EXCLUSION_REASONS:
        lines.append(ctx.t(f"campaign.excluded_{reason}", count=reach.excluded[reason]))
    moment = campaign.scheduled_at or ctx.now
    offer = campaign_offer(campaign)
    quiet = await quiet_line(
        ctx, moment, "campaign.preview_quiet", offer, telegram=reach.per_channel["telegram"]
    )
    if quiet:
        lines.append(quiet)
    line_count = reach.per_channel["line"]
    line_cost = campaign.line_message_price * line_count
    lines.append(
        ctx.tn(
            "campaign.preview_line_cost",
            line_count,
            price=format_baht(campaign.line_message_price, ctx.locale),
            cost=format_baht(line_cost, ctx.locale),
        )
    )
    lines.append(await _quota_line(ctx, line_count))
    if campaign.offer:
        worst = campaign.offer_cost * reach.recipients
        lines.append(
            ctx.t(
                "campaign.preview_offer_cost",
                each=format_baht(campaign.offer_cost, ctx.locale),
                most=format_baht(worst, ctx.locale),
                total=format_baht(worst + line_cost, ctx.locale),
            )
        )
    return lines


async def sample_message(ctx: StaffAct, campaign: Campaign, row: Any) -> Reply:
    rules = await load_rules(ctx.uow)
    spend = row.spend if isinstance(row.spend, Decimal) else Decimal(row.spend or 0)
    tier, _ = rules.held_tier(row.tier, spend)  # the row of :func:`audience_query`
    locale = row.locale or "th"
    values = member_values(
        name=row.name,
        points=row.points_balance,
        tier=tier_name(locale, tier),
        branch=row.name_th if locale == "th" else row.name_en,
        offer=campaign_offer(campaign),
        locale=locale,
        now=ctx.now,
        tz=ctx.settings.tz,
        shop=await shown_shop_name(ctx.uow, locale, ctx.settings.shop_name),
    )
    message = campaign_replies(campaign, values, locale)
    return Reply(text=ctx.t("campaign.sample", name=row.name or "-") + "\n\n" + message.text)


async def quiet_line(
    ctx: StaffAct, moment: datetime, key: str, offer: Offer | None = None, telegram: int = 0
) -> str | None:
    """``key``'s sentence when promotions sent at ``moment`` fall in the shop's quiet hours and
    wait (``time``: when they go out), else None: said before and when a campaign is sent. When
    ``offer`` has ended by then, what waits is withdrawn unsent, and the sentence says so.

    Sent before the quiet hours, ``telegram`` messages still take at least ``telegram`` ÷
    ``TELEGRAM_RATE`` seconds (Telegram's limit, one bot): when the quiet hours begin before
    that, the ones still waiting then wait for the morning, and the sentence says so."""
    policy = await load_policy(ctx.uow.settings)
    tz = ctx.settings.tz
    if in_quiet_hours(moment, tz, policy):
        resume = next_send_time(moment, tz, policy)
        line = ctx.t(key, time=format_datetime(resume, ctx.locale, tz))
    else:
        starts = quiet_from(moment, tz, policy)
        least = timedelta(seconds=telegram / ctx.settings.telegram_rate)
        if not telegram or starts is None or moment + least <= starts:
            return None
        resume = next_send_time(starts, tz, policy)
        line = ctx.tn(
            "campaign.preview_into_quiet",
            telegram,
            minutes=math.ceil(least.total_seconds() / 60),
            quiet=format_datetime(starts, ctx.locale, tz),
            time=format_datetime(resume, ctx.locale, tz),
        )
    if offer is not None and offer.valid_until is not None and offer.ended_by(resume, tz):
        day = format_date(offer.valid_until, ctx.locale)
        line += " " + ctx.t("campaign.quiet_past_offer", day=day)
    return line


async def test_send(ctx: Context, campaign: Campaign) -> list[Reply]:
    """The message as the staff member's own member record would get it, with its button, to
    this chat only: nothing is queued and nothing counts in the campaign's stats."""
    staff_name = ctx.staff.name if ctx.staff else None
    return await test_replies(ctx, campaign, ctx.member, staff_name, ctx.locale)


async def test_replies(
    ctx: StaffAct, campaign: Campaign, member: Member | None, staff_name: str | None, locale: str
) -> list[Reply]:
    """A test of ``campaign`` for one staff member (the chat answers with it, the console
    queues it to their chat): a header, then the message as ``member`` (their own member
    record, if they have one) would get it, in ``locale``."""
    values = await member_message_values(ctx, member, campaign_offer(campaign), locale, staff_name)
    return [
        ctx.reply("campaign.test_header", id=campaign.id),
        campaign_replies(campaign, values, locale),
    ]


async def member_message_values(
    ctx: StaffAct, member: Member | None, offer: Offer | None, locale: str, name: str | None
) -> dict[str, str | None]:
    """What each placeholder shows for ``member`` (the tier they hold, their home
    branch); with no member, ``name`` and no points, tier or branch."""
    shop = await shown_shop_name(ctx.uow, locale, ctx.settings.shop_name)
    tz = ctx.settings.tz
    if member is None:
        return member_values(
            name=name,
            points=0,
            tier="",
            branch=None,
            offer=offer,
            locale=locale,
            now=ctx.now,
            tz=tz,
            shop=shop,
        )
    status_rules = await load_rules(ctx.uow)
    since = add_months(ctx.now, -status_rules.tier_window_months)
    spend = await ctx.uow.members.spend_since(member.id, since)
    tier, _ = status_rules.held_tier(member.tier, spend)
    branch = await ctx.uow.branches.get(member.home_branch_id) if member.home_branch_id else None
    return member_values(
        name=member.name,
        points=member.points_balance,
        tier=tier_name(locale, tier),
        branch=(branch.name_th if locale == "th" else branch.name_en) if branch else None,
        offer=offer,
        locale=locale,
        now=ctx.now,
        tz=tz,
        shop=shop,
    )
