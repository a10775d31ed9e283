"""The console's "last N days" figures count the N shop days its per-day chart shows (today's
included, from the shop's midnight), not N × 24 hours back: a sale on the afternoon of the
8th shop day back is within 7 × 24 hours of a morning, yet on a day no chart shows."""

from __future__ import annotations

from decimal import Decimal

from bot.bootstrap import App
from bot.core.clock import FrozenClock
from storage.console_queries import overview
from storage.console_reports import hours_of_week, sales_by_day
from storage.reports import shop_report
from storage.segments import SegmentEnv
from tests.domain.automation_support import BANGKOK, bangkok
from tests.unit.inbox_support import add_sale
from tests.unit.staff_support import make_member

TODAY = bangkok(2026, 3, 10, 10, 0)
TIERS = (("member", Decimal(0)),)


async def _two_sales(app: App, clock: FrozenClock) -> None:
    clock.set(bangkok(2026, 3, 3, 9, 0))
    ploy = await make_member(app, "Ploy", "0811111111", user_id="m1")
    await add_sale(app, ploy.id, "asoke", bangkok(2026, 3, 3, 15, 0), "120.00")  # 8th day back
    await add_sale(app, ploy.id, "asoke", bangkok(2026, 3, 4, 0, 30), "80.00")  # 7th, first shown
    clock.set(TODAY)


async def test_the_overview_windows_and_branches_count_the_charts_shop_days(
    app: App, clock: FrozenClock
) -> None:
    await _two_sales(app, clock)
    async with app.uow() as uow:
        numbers = await overview(uow, TODAY, BANGKOK, (7,), None)
        [chart] = await sales_by_day(uow, TODAY, BANGKOK, 7, None)
    [week] = numbers.windows
    assert (week.sales, str(week.revenue), week.new_members) == (1, "80.00", 0)
    assert [(b.code, b.sales) for b in numbers.by_branch] == [("asoke", 1)]
    assert sum(d.sales for d in chart.days) == week.sales


async def test_the_heat_map_counts_the_same_shop_days(app: App, clock: FrozenClock) -> None:
    await _two_sales(app, clock)
    async with app.uow() as uow:
        [branch] = await hours_of_week(uow, TODAY, BANGKOK, 7, None)
    cells = {(day, hour) for day, row in enumerate(branch.cells) for hour, n in enumerate(row) if n}
    assert cells == {(2, 0)}  # Wednesday 4 March, 00:30


async def test_the_report_counts_the_consoles_30_shop_days(app: App, clock: FrozenClock) -> None:
    """/report's "last 30 days" (active members, sales, revenue) is the console's window: a sale
    at 23:00 on the 31st shop day back is within 30 × 24 hours of a morning, not within it."""
    clock.set(bangkok(2026, 2, 8, 9, 0))
    ploy = await make_member(app, "Ploy", "0811111111", user_id="m1")
    await add_sale(app, ploy.id, "asoke", bangkok(2026, 2, 8, 23, 0), "120.00")  # 31st day back
    await add_sale(app, ploy.id, "asoke", bangkok(2026, 2, 9, 0, 30), "80.00")  # 30th, first in
    clock.set(TODAY)
    async with app.uow() as uow:
        console = await overview(uow, TODAY, BANGKOK, (30,), None)
        report = await shop_report(uow, SegmentEnv(TODAY, BANGKOK), Decimal(1), TIERS)
    [month] = console.windows
    assert (month.sales, str(month.revenue)) == (1, "80.00")
    assert (report.sales_last_30d, str(report.revenue_last_30d)) == (1, "80.00")
    assert report.active_members == month.active_members == 1
