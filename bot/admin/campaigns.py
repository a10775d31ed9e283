"""The console's campaigns: the list, a campaign's results, its preview, send, cancel, resume.

Managers and owners, as ``/campaigns``, ``/campaign`` and ``/stats`` in the chat (open to
every manager there). The pages call the chat's own functions through
:class:`bot.admin.acting.ConsoleAct`: the preview's numbers (``preview_lines``), the message
rendered for the first recipient, ``/stats``'s lines, and sending, cancelling and resuming
(``handlers.staff.campaigns``); what they answer is shown as the chat shows it. Sending and
cancelling need the form's confirmation box ticked.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from aiohttp import web
from markupsafe import Markup

from bot.admin.acting import ConsoleAct
from bot.admin.campaign_tools import example_sample, holdout_section, test_notice
from bot.admin.keys import ADMIN_APP, VIEWER
from bot.admin.render import page
from bot.admin.svg import bars
from bot.i18n import format_baht, t
from handlers.campaigns.stats_text import campaign_summary_line, per_member_text, share_text
from handlers.staff.campaigns import CANCELLABLE, cancel_campaign, resume, send_campaign
from handlers.staff.campaigns.preview import measure_reach, preview_lines, sample_message
from handlers.staff.stats import feedback_line, stats_text
from shop.campaigns.stats import CampaignStats, compute_stats
from shop.campaigns.stats_feedback import feedback_stats
from storage.models import Campaign
from storage.uow import UnitOfWork
from wording.campaigns import campaign_title

LIST_LIMIT: Final = 50


def _not_found(request: web.Request) -> web.Response:
    viewer = request[VIEWER]
    return page(
        request,
        viewer,
        viewer.locale,
        "message.html",
        status=404,
        title_key="admin_campaigns.title",
        message_key="admin.not_found",
    )


async def _campaign(uow: UnitOfWork, request: web.Request) -> Campaign | None:
    return await uow.campaigns.get(int(request.match_info["campaign_id"][:18]))


def _before(request: web.Request) -> int | None:
    """The ``before`` of the list's address: the campaigns older than that id (the link to
    older campaigns names the last one shown); anything but a number is the first page."""
    raw = request.query.get("before", "")
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 18 else None


async def list_campaigns(request: web.Request) -> web.Response:
    """The campaigns, newest first, :data:`LIST_LIMIT` to a page with a link to older ones."""
    app, viewer = request.app[ADMIN_APP], request[VIEWER]
    now = app.clock.now()
    rows = []
    before = _before(request)
    async with app.uow() as uow:
        found = await uow.campaigns.recent(LIST_LIMIT + 1, before=before)
        for campaign in found[:LIST_LIMIT]:
            summary = ""
            if campaign.status not in ("draft", "scheduled"):
                summary = await campaign_summary_line(uow, campaign, viewer.locale, now)
            title = campaign_title(viewer.locale, campaign.name, campaign.kind, campaign.period_key)
            rows.append((campaign, title, summary))
    return page(
        request,
        viewer,
        viewer.locale,
        "campaigns.html",
        title_key="admin_campaigns.title",
        rows=rows,
        older=found[LIST_LIMIT - 1].id if len(found) > LIST_LIMIT else None,
        paged=before is not None,
    )


def chart(stats: CampaignStats, locale: str) -> Markup:
    """Revenue per member and the share who visited, recipients beside the hold-out."""
    r, h = stats.recipients, stats.holdout
    sent, held = t(locale, "admin_campaigns.recipients"), t(locale, "admin_campaigns.holdout")
    # a group of nobody has no mean or share: no bar, a dash (not a bar at 0)
    revenue = bars(
        [
            (label, float(g.revenue_per_member or 0), per_member_text(g.revenue_per_member, locale))
            for label, g in ((sent, r), (held, h))
        ],
        t(locale, "admin_campaigns.chart_revenue"),
    )
    visits = bars(
        [
            (label, g.conversion or 0.0, share_text(g.conversion))
            for label, g in ((sent, r), (held, h))
        ],
        t(locale, "admin_campaigns.chart_conversion"),
    )
    return revenue + visits


async def show(request: web.Request, notice: str = "") -> web.Response:
    """Everything ``/stats`` says (audited ``stats.viewed`` as there), the chart, the actions."""
    app, viewer = request.app[ADMIN_APP], request[VIEWER]
    async with app.uow() as uow:
        campaign = await _campaign(uow, request)
        if campaign is None:
            return _not_found(request)
        act = ConsoleAct(uow, app, viewer)
        stats = await compute_stats(uow, campaign.id, act.now)
        lines: list[str] = []
        svg = ""
        if stats.started_at is not None:
            lines = stats_text(act, stats).split("\n")
            answers = await feedback_stats(uow, campaign, app.settings.tz)
            if answers is not None:
                lines.append(feedback_line(act, answers))
            svg = chart(stats, viewer.locale)
        await uow.audit.record(
            viewer.actor, "stats.viewed", act.now, channel="web", campaign_id=campaign.id
        )
        await uow.commit()
    return page(
        request,
        viewer,
        viewer.locale,
        "campaign.html",
        title_key="admin_campaigns.campaign_title",
        campaign=campaign,
        title=campaign_title(viewer.locale, campaign.name, campaign.kind, campaign.period_key),
        lines=lines,
        chart=svg,
        notice=notice,
        cancellable=campaign.status in CANCELLABLE,
    )


async def preview(request: web.Request) -> web.Response:
    """The chat's preview: reach per channel, channel readiness, the hold-out and the uplift it
    can detect, exclusions, quiet hours, cost and quota; the message for a real member (for a
    manager of one branch, a member of theirs or a sample one, as the live preview shows)."""
    app, viewer = request.app[ADMIN_APP], request[VIEWER]
    # it pages through the whole audience and asks LINE for the quota: no write lock meanwhile
    async with app.uow.reading() as uow:
        campaign = await _campaign(uow, request)
        if campaign is None:
            return _not_found(request)
        act = ConsoleAct(uow, app, viewer)
        reach = await measure_reach(act, campaign)
        lines = await preview_lines(act, campaign, reach)
        target = request.query.get("target")
        lines, detectable, sized = holdout_section(act, campaign, reach, lines, target)
        sample = None
        if reach.sample is not None and viewer.branch_id is None:
            sample = (await sample_message(act, campaign, reach.sample)).text
        elif reach.sample is not None:  # the first recipient may be of another branch
            sample = await example_sample(act, campaign)
    return page(
        request,
        viewer,
        viewer.locale,
        "campaign_preview.html",
        title_key="admin_campaigns.preview_title",
        campaign=campaign,
        lines=lines,
        sample=sample,
        startable=campaign.status in ("draft", "scheduled"),
        offer_cost=format_baht(Decimal(campaign.offer_cost), viewer.locale),
        detectable=detectable,
        target=(target or "")[:40],
        sized=sized,
        notice=test_notice(request),
    )


async def _act(request: web.Request, verb: str) -> web.Response:
    app, viewer = request.app[ADMIN_APP], request[VIEWER]
    form = await request.post()
    if verb != "resume" and form.get("confirm") != "yes":
        return await show(request, t(viewer.locale, "admin_campaigns.confirm_needed"))
    async with app.uow() as uow:
        campaign = await _campaign(uow, request)
        if campaign is None:
            return _not_found(request)
        act = ConsoleAct(uow, app, viewer)
        if verb == "send":
            replies = await send_campaign(act, campaign)
        elif verb == "cancel":
            replies = await cancel_campaign(act, campaign)
        else:
            replies = await resume(act, campaign)
        await uow.commit()
        act.wake_outbox()
    return await show(request, "\n".join(reply.text or "" for reply in replies))


async def send(request: web.Request) -> web.Response:
    return await _act(request, "send")


async def cancel(request: web.Request) -> web.Response:
    return await _act(request, "cancel")


async def resume_sending(request: web.Request) -> web.Response:
    return await _act(request, "resume")
