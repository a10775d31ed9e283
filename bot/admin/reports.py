"""The overview's charts and the Reports page.

- Overview: members per lifecycle group and per tier (the counts ``/report`` makes, limited
  to a manager's branch) and revenue per day over the chosen window (7, 30 or 90 days).
- Reports: sales per branch by weekday and hour (a heat map a branch), sales per branch and
  day, and the automations' latest runs with the numbers ``/stats`` gives them.

The window is a GET parameter (a number, nothing personal); every chart is SVG drawn on the
server (:mod:`bot.admin.svg`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Final
from zoneinfo import ZoneInfo

from aiohttp import web
from markupsafe import Markup

from bot.admin import svg
from bot.admin.keys import ADMIN_APP, VIEWER
from bot.admin.render import page
from bot.i18n import format_baht, format_number, t
from handlers.campaigns.stats_text import share_text
from shop.campaigns.launch import segment_env
from shop.campaigns.stats import CampaignStats, compute_stats
from shop.console import Viewer
from shop.loyalty import Tier, load_rules
from storage.console_reports import (
    BranchDays,
    automation_campaigns,
    hours_of_week,
    sales_by_day,
)
from storage.reports import lifecycle_counts, tier_counts
from storage.uow import UnitOfWork
from wording.campaigns import campaign_title
from wording.loyalty import tier_name

WINDOWS: Final = (7, 30, 90)
DEFAULT_DAYS: Final = 30


def window_of(request: web.Request) -> int:
    typed = request.query.get("days", "")
    return int(typed) if typed in {str(d) for d in WINDOWS} else DEFAULT_DAYS


def _branch(locale: str, name_th: str, name_en: str) -> str:
    return name_th if locale == "th" else name_en


def _daily_revenue(found: list[BranchDays], locale: str) -> list[tuple[str, float]]:
    """The shop's (or the branch's) revenue per day, summed over branches."""
    if not found:
        return []
    totals = [
        sum((b.days[i].revenue for b in found), Decimal(0)) for i in range(len(found[0].days))
    ]
    return [
        (f"{d.day.day}/{d.day.month}", float(v)) for d, v in zip(found[0].days, totals, strict=True)
    ]


async def overview_charts(
    uow: UnitOfWork, viewer: Viewer, now: datetime, tz: ZoneInfo, days: int
) -> dict[str, Any]:
    """The overview's charts for ``viewer``'s scope, as values for ``overview_charts.html``."""
    loc = viewer.locale
    env = await segment_env(uow, now, tz)
    rules = await load_rules(uow)
    groups = await lifecycle_counts(uow, env, viewer.branch_id)
    tiers = await tier_counts(uow, now, env.tiers, rules.tier_window_months, viewer.branch_id)
    named = {tier.name: tier for tier in rules.tiers}
    by_day = await sales_by_day(uow, now, tz, days, viewer.branch_id)
    group_bars = [
        (t(loc, f"report.group_{name}"), float(n), format_number(n, loc))
        for name, n in groups.items()
    ]
    tier_bars = [
        (tier_name(loc, named.get(name, Tier(name, Decimal(0)))), float(n), format_number(n, loc))
        for name, n in tiers.items()
    ]
    return {
        "days": days,
        "windows": WINDOWS,
        "groups_svg": svg.bars(group_bars, t(loc, "admin_reports.groups")),
        "tiers_svg": svg.bars(tier_bars, t(loc, "admin_reports.tiers")),
        "daily_svg": svg.columns(
            _daily_revenue(by_day, loc),
            t(loc, "admin_reports.daily_revenue", days=days),
            every=max(days // 6, 1),
        ),
    }


@dataclass(frozen=True, slots=True)
class AutomationRow:
    title: str
    period: str
    stats: CampaignStats


async def _automations(uow: UnitOfWork, locale: str, now: datetime) -> list[AutomationRow]:
    rows = []
    for campaign in await automation_campaigns(uow):
        stats = await compute_stats(uow, campaign.id, now)
        title = campaign_title(locale, campaign.name, campaign.kind)
        rows.append(AutomationRow(title, campaign.period_key or "", stats))
    return rows


def _heat_maps(found: list[Any], locale: str) -> list[tuple[str, Markup]]:
    days = t(locale, "chart.weekdays").split()
    return [
        (
            _branch(locale, b.branch.name_th, b.branch.name_en),
            svg.heat(b.cells, days, t(locale, "admin_reports.heat_title")),
        )
        for b in found
    ]


async def reports(request: web.Request) -> web.Response:
    """GET /reports[?days=7|30|90]."""
    app, viewer = request.app[ADMIN_APP], request[VIEWER]
    days, now, tz, loc = window_of(request), app.clock.now(), app.settings.tz, viewer.locale
    async with app.uow() as uow:
        heat = await hours_of_week(uow, now, tz, days, viewer.branch_id)
        by_day = await sales_by_day(uow, now, tz, days, viewer.branch_id)
        automations = await _automations(uow, loc, now)
        await uow.audit.record(viewer.actor, "console.reports_viewed", now, days=days)
        await uow.commit()
    branches = [
        (
            _branch(loc, b.branch.name_th, b.branch.name_en),
            sum(d.sales for d in b.days),
            format_baht(sum((d.revenue for d in b.days), Decimal(0)), loc),
            svg.columns(
                [(f"{d.day.day}/{d.day.month}", float(d.revenue)) for d in b.days],
                t(loc, "admin_reports.daily_revenue", days=days),
                every=max(days // 6, 1),
            ),
        )
        for b in by_day
    ]
    return page(
        request,
        viewer,
        loc,
        "reports.html",
        title_key="admin_reports.title",
        days=days,
        windows=WINDOWS,
        heat_maps=_heat_maps(heat, loc),
        branches=branches,
        automations=automations,
        percent=share_text,
    )
