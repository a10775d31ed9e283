"""/stats [CAMPAIGN]: what a campaign brought in, recipients against the hold-out group.

CAMPAIGN is its number or its name (the newest of that name); without one, the newest campaign
that was sent. The reply is the numbers per group, the uplift with its 95% interval — or, in
plain words, that there are too few members to tell or that the difference could be chance —
cost and ROI, then a chart image. A campaign that kept no hold-out (a notice sent to everyone)
says so instead of an uplift; the feedback automation's campaign adds its answers and average
rating. Managers and owners only; each view is audited.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

from bot.core.ids import row_id
from bot.core.messages import Attachment, Reply
from bot.i18n import format_baht, format_date
from handlers.campaigns.stats_text import interval_phrase, per_member_text, share_text
from handlers.context import Context
from handlers.router import Audience, Command, Router
from handlers.staff.acting import StaffAct
from shop.campaigns.stats import CampaignStats, GroupStats, compute_stats
from shop.campaigns.stats_feedback import FeedbackStats, feedback_stats
from shop.campaigns.uplift import MIN_CONVERTERS, MIN_MEMBERS, Verdict
from storage.models import Campaign
from wording.campaigns import campaign_title


async def find_campaign(ctx: Context, query: str) -> Campaign | None:
    """A campaign by number or name; the newest sent (else newest) one when ``query`` is empty."""
    campaigns = ctx.uow.campaigns
    query = query.strip()
    if not query:
        return await campaigns.newest_started() or await campaigns.newest()
    campaign_id = row_id(query.lstrip("#"))
    if campaign_id is not None:
        by_id = await campaigns.get(campaign_id)
        if by_id is not None:
            return by_id
    return await campaigns.newest_named(query)


async def show_stats(ctx: Context) -> list[Reply]:
    """/stats [CAMPAIGN] (manager and up)."""
    campaign = await find_campaign(ctx, ctx.args)
    if campaign is None:
        key = "stats.no_campaign" if ctx.args.strip() else "stats.no_campaigns"
        return [ctx.reply(key)]
    stats = await compute_stats(ctx.uow, campaign.id, ctx.now)
    await ctx.uow.audit.record(
        ctx.actor, "stats.viewed", ctx.now, channel=ctx.channel, campaign_id=campaign.id
    )
    if stats.started_at is None:
        title = campaign_title(ctx.locale, campaign.name, campaign.kind, campaign.period_key)
        return [ctx.reply("stats.not_started", name=title)]
    text = stats_text(ctx, stats)
    answers = await feedback_stats(ctx.uow, campaign, ctx.settings.tz)
    if answers is not None:
        text += "\n" + feedback_line(ctx, answers)
    # matplotlib loads in about a second: only when a chart is drawn, not with every handler
    from handlers.campaigns.charts import campaign_chart

    png = await asyncio.to_thread(campaign_chart, stats, ctx.locale)
    chart = Attachment(f"campaign-{campaign.id}.png", png, "image/png")
    return [Reply(text=text), Reply(attachment=chart)]


def feedback_line(ctx: StaffAct, answers: FeedbackStats) -> str:
    if answers.average is None:
        return ctx.t("stats.feedback_no_answers", asked=answers.asked)
    return ctx.t(
        "stats.feedback_answers",
        n=answers.answers,
        asked=answers.asked,
        average=f"{answers.average:.1f}",
        low=answers.low,
    )


def _points(value: float) -> str:
    return f"{value * 100:+.1f}"


def _excluded(ctx: StaffAct, *groups: GroupStats) -> str:
    """The members left out, by reason, from both groups (the lot is drawn before the
    contact policy looks at anyone)."""
    counts: Counter[str] = Counter()
    for group in groups:
        counts.update(group.excluded)
    parts = [
        f"{ctx.t('stats.reason_' + reason)} {count}" for reason, count in sorted(counts.items())
    ]
    return ", ".join(parts)


def _flow(ctx: StaffAct, stats: CampaignStats) -> str:
    """In the segment → left out → hold-out → sent to, in the preview's and the send's words."""
    r, h = stats.recipients, stats.holdout
    return ctx.t(
        "campaign.flow",
        segment=r.members + h.members,
        left_out=(r.members - r.measured) + (h.members - h.measured),
        holdout=h.measured,
        recipients=r.measured,
    )


def _head_lines(ctx: StaffAct, stats: CampaignStats) -> list[str]:
    """Title, window, the recipient flow and delivery; the messages withdrawn unsent when
    there are any, so that the delivery counts add up to the recipients."""
    r, loc = stats.recipients, ctx.locale
    assert stats.started_at is not None
    assert stats.window_end is not None
    tz = ctx.settings.tz
    last_day = stats.window_end - timedelta(microseconds=1)  # the window's end is exclusive
    lines = [
        ctx.t(
            "stats.title",
            name=campaign_title(loc, stats.name, stats.kind),
            status=ctx.t("stats.status_" + stats.status),
        ),
        ctx.t(
            "stats.window",
            start=format_date(stats.started_at.astimezone(tz).date(), loc),
            end=format_date(last_day.astimezone(tz).date(), loc),
        ),
        ctx.t("stats.members", flow=_flow(ctx, stats)),
        ctx.t(
            "stats.delivery",
            sent=r.sent,
            failed=r.failed,
            unreachable=r.unreachable,
            pending=r.pending,
        ),
    ]
    if r.withdrawn:
        lines.append(ctx.t("stats.withdrawn", withdrawn=r.withdrawn))
    return lines


def stats_text(ctx: StaffAct, stats: CampaignStats) -> str:
    """The numbers, one short line each (chat screens are narrow)."""
    r, h, loc = stats.recipients, stats.holdout, ctx.locale
    lines = _head_lines(ctx, stats)
    excluded = _excluded(ctx, r, h)
    if excluded:
        lines.append(ctx.t("stats.excluded", reasons=excluded))
    lines += [
        ctx.t("stats.responses", clicked=r.clicked, claimed=r.claimed, redeemed=r.redeemed),
        ctx.t("stats.visits", recipients=r.visits, holdout=h.visits),
        ctx.t(
            "stats.conversion",
            recipients=share_text(r.conversion),
            holdout=share_text(h.conversion),
        ),
        ctx.t(
            "stats.revenue",
            recipients=format_baht(r.revenue, loc),
            holdout=format_baht(h.revenue, loc),
        ),
        ctx.t(
            "stats.per_member",
            recipients=per_member_text(r.revenue_per_member, loc),
            holdout=per_member_text(h.revenue_per_member, loc),
        ),
        _uplift_line(ctx, stats),
        _conversion_line(ctx, stats),
        ctx.t("stats.blocks", blocked=r.blocked, stopped=r.stopped, holdout=h.blocked + h.stopped),
        ctx.t(
            "stats.cost",
            cost=format_baht(stats.cost, loc),
            messages=stats.line_messages,
            offers=r.redeemed,
        ),
        _roi_line(ctx, stats),
    ]
    if r.redeemed_late:
        lines.insert(-1, ctx.t("stats.redeemed_late", count=r.redeemed_late))
    if stats.overlapping:
        lines.append(ctx.t("stats.overlap", count=stats.overlapping))
    elif not stats.no_holdout:
        lines.append(ctx.t("stats.overlap_none"))
    return "\n".join(lines)


def _uplift_line(ctx: StaffAct, stats: CampaignStats) -> str:
    estimate = stats.revenue_uplift
    if stats.no_holdout:
        return ctx.t("stats.no_holdout")
    if estimate.no_variation:
        return ctx.t("stats.no_variation")
    if estimate.verdict is Verdict.TOO_FEW:
        return ctx.t("stats.too_few", members=MIN_MEMBERS, converters=MIN_CONVERTERS)
    detail = interval_phrase(estimate, ctx.locale)
    key = "stats.no_effect" if estimate.verdict is Verdict.NO_EFFECT else "stats.uplift"
    return ctx.t(key, detail=detail)


def _conversion_line(ctx: StaffAct, stats: CampaignStats) -> str:
    estimate = stats.conversion_uplift
    if stats.no_holdout:
        return ctx.t("stats.conversion_no_holdout")
    if estimate.verdict is Verdict.TOO_FEW:
        return ctx.t("stats.conversion_too_few")
    return ctx.t(
        "stats.conversion_uplift",
        value=_points(estimate.difference),
        low=_points(estimate.low),
        high=_points(estimate.high),
    )


def _roi_line(ctx: StaffAct, stats: CampaignStats) -> str:
    """Extra revenue and ROI as 95% ranges, only when the uplift's interval excludes 0: a
    point figure from an interval that contains 0 would claim what was not measured."""
    if stats.no_holdout:
        return ctx.t("stats.roi_no_holdout")
    if stats.too_few:
        key = "stats.roi_no_variation" if stats.revenue_uplift.no_variation else "stats.roi_too_few"
        return ctx.t(key)
    if stats.incremental_range is None:
        return ctx.t("stats.roi_no_effect")
    low, high = (format_baht(v, ctx.locale) for v in stats.incremental_range)
    if stats.roi_range is None:
        return ctx.t("stats.no_cost", low=low, high=high)
    roi_low, roi_high = (f"{v * 100:,.0f}%" for v in stats.roi_range)
    return ctx.t("stats.roi", low=low, high=high, roi_low=roi_low, roi_high=roi_high)


def register(router: Router) -> None:
    """``/stats`` (managers and owners)."""
    router.command(Command("stats", show_stats, Audience.MANAGER, describe="stats.cmd"))
