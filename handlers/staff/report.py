"""/report: the shop at a glance — members by lifecycle group and tier, new and active members,
points liability in baht, sales by branch, weekday and hour (last 30 days, shop time), with
charts. Managers and owners only; audited. The numbers come from ``storage.reports``.

A manager of one branch gets that branch's report, as their console overview and digest are
(``storage.reports``: members of its home, sales made there, members who bought there); owners
and managers of no branch get the whole shop's.

Points liability = outstanding points × the baht a point is worth. The worth is the ``report``
shop setting ``point_value`` (baht per point) when the owner set it; by default it is a 5%
give-back on what the points were earned with: ``baht_per_point × 0.05`` (25 baht per point →
1.25 baht per point), a common loyalty-programme rate.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, Final

from bot.core.messages import Attachment, Reply
from bot.i18n import format_baht, format_number, format_points, t
from handlers.context import Context
from handlers.inbox.report_lines import service_lines
from handlers.router import Audience, Command, Router
from shop.loyalty import LoyaltyRules, Tier, load_rules
from storage.reports import ShopReport, shop_report
from storage.segments import LifecycleRules, SegmentEnv
from wording.loyalty import tier_name

SETTINGS_KEY: Final = "report"
LIFECYCLE_KEY: Final = "lifecycle"
DEFAULT_GIVE_BACK: Final = Decimal("0.05")


def point_value(setting: dict[str, Any] | None, rules: LoyaltyRules) -> Decimal:
    """Baht per point for the liability (see the module docstring)."""
    if setting and setting.get("point_value") is not None:
        return Decimal(str(setting["point_value"]))
    return rules.baht_per_point * DEFAULT_GIVE_BACK


async def build_report(ctx: Context) -> ShopReport:
    uow = ctx.uow
    rules = await load_rules(uow)
    lifecycle = LifecycleRules.from_setting(await uow.settings.get(LIFECYCLE_KEY))
    tiers = tuple((tier.name, tier.min_spend) for tier in rules.tiers)
    env = SegmentEnv(
        ctx.now,
        ctx.settings.tz,
        lifecycle,
        tiers=tiers,
        tier_window_months=rules.tier_window_months,
    )
    value = point_value(await uow.settings.get(SETTINGS_KEY), rules)
    branch_id = report_branch(ctx)
    return await shop_report(uow, env, value, tiers, rules.tier_window_months, branch_id)


def report_branch(ctx: Context) -> int | None:
    """The branch whose report the reader gets: their own for a branch's staff, None (the
    whole shop) for an owner or a manager of no branch."""
    staff = ctx.staff
    return None if staff is None or staff.role == "owner" else staff.branch_id


async def show_report(ctx: Context) -> list[Reply]:
    """/report (manager and up): one text, then the charts."""
    report = await build_report(ctx)
    await ctx.uow.audit.record(ctx.actor, "report.viewed", ctx.now, channel=ctx.channel)
    tiers = (await load_rules(ctx.uow)).tiers
    charts = await asyncio.to_thread(report_charts, report, ctx.locale, tiers)
    service = await service_lines(ctx, report_branch(ctx))
    text = "\n".join([report_text(ctx, report, tiers), *service])
    return [Reply(text=text)] + [
        Reply(attachment=Attachment(name, png, "image/png")) for name, png in charts
    ]


def tier_labels(report: ShopReport, locale: str, named: Sequence[Tier]) -> list[str]:
    """The names of ``report.by_tier``'s tiers in ``locale``, the owner's display names first
    (``named``: the tiers as the rules hold them, labels included)."""
    by_name = {tier.name: tier for tier in named}
    return [tier_name(locale, by_name.get(name, Tier(name, Decimal(0)))) for name in report.by_tier]


def report_text(ctx: Context, report: ShopReport, named: Sequence[Tier] = ()) -> str:
    """The report's text; ``named``: the tiers with the owner's display names."""
    loc = ctx.locale
    groups = ", ".join(
        f"{ctx.t('report.group_' + name)} {format_number(count, loc)}"
        for name, count in report.by_group.items()
    )
    tiers = ", ".join(
        f"{label} {format_number(n, loc)}"
        for label, n in zip(tier_labels(report, loc, named), report.by_tier.values(), strict=True)
    )
    branches = "\n".join(
        ctx.tn(
            "report.branch_line",
            branch.sales,
            branch=branch.name_th if loc == "th" else branch.name_en,
            revenue=format_baht(branch.revenue, loc),
        )
        for branch in report.by_branch
    ) or ctx.t("report.no_sales")
    busiest = max(range(24), key=lambda hour: report.revenue_by_hour[hour])
    lines = [
        ctx.t("report.title"),
        ctx.t(
            "report.members",
            members=report.members,
            new=report.new_members,
            active=report.active_members,
        ),
        ctx.t("report.groups", groups=groups),
        ctx.t("report.tiers", tiers=tiers),
        ctx.t(
            "report.liability",
            points=format_points(report.points_outstanding),
            value=format_baht(report.liability, loc),
            rate=f"{report.point_value.normalize():f}",
        ),
        ctx.t(
            "report.sales",
            sales=report.sales_last_30d,
            revenue=format_baht(report.revenue_last_30d, loc),
        ),
        branches,
    ]
    if report.sales_last_30d:
        lines.append(ctx.t("report.busiest_hour", hour=f"{busiest:02d}:00"))
    return "\n".join(lines)


def report_charts(
    report: ShopReport, locale: str = "th", named: Sequence[Tier] = ()
) -> list[tuple[str, bytes]]:
    """PNGs: members per lifecycle group and per tier, sales per branch, per weekday, per hour,
    labelled in ``locale``; ``named``: the tiers with the owner's display names."""
    # matplotlib loads in about a second: only when a chart is drawn, not with every handler
    from handlers.campaigns.charts import bar_chart

    groups = bar_chart(
        t(locale, "chart.members_by_group"),
        [t(locale, f"report.group_{name}") for name in report.by_group],
        list(report.by_group.values()),
        horizontal=True,
    )
    tiers = bar_chart(
        t(locale, "chart.members_by_tier"),
        tier_labels(report, locale, named),
        list(report.by_tier.values()),
        horizontal=True,
        left_out=t(locale, "chart.names_left_out"),
        fallbacks=list(report.by_tier),
    )
    branches = bar_chart(
        t(locale, "chart.revenue_by_branch"),
        [branch.name_th if locale == "th" else branch.name_en for branch in report.by_branch],
        [branch.revenue for branch in report.by_branch],
        horizontal=True,
        left_out=t(locale, "chart.names_left_out"),
        fallbacks=[branch.code for branch in report.by_branch],
    )
    weekdays = bar_chart(
        t(locale, "chart.revenue_by_weekday"),
        t(locale, "chart.weekdays").split(),
        report.revenue_by_weekday,
    )
    hours = bar_chart(
        t(locale, "chart.revenue_by_hour"),
        [f"{hour:02d}" for hour in range(24)],
        report.revenue_by_hour,
    )
    return [
        ("members.png", groups),
        ("tiers.png", tiers),
        ("branches.png", branches),
        ("weekdays.png", weekdays),
        ("hours.png", hours),
    ]


def register(router: Router) -> None:
    """``/report`` (managers and owners)."""
    router.command(Command("report", show_report, Audience.MANAGER, describe="report.cmd"))
