"""A shop whose ``CHATCRM_TIMEZONE`` has daylight saving (Europe/London: GMT in winter, BST,
UTC+1, from 29 March 2026), asked about its past from after the change: the shop day, weekday
and hour of a sale are those of the sale's own moment in the zone, on SQLite as on PostgreSQL.

A sale at 23:30 on Friday 20 March 2026 (GMT, 23:30 UTC) looked at on Sunday 5 April (BST) is
still Friday 20 March at 23:30: shifting every stored time by the offset of *now* (+1 h) puts
it on Saturday 21 March at 00:30. Thailand has no DST, so Bangkok shops never see this; the
setting is documented as any zone, so every place should honour it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.bootstrap import App
from bot.core.clock import FrozenClock
from storage.console_reports import hours_of_week, sales_by_day
from storage.models import Member
from storage.raw_session import session_of
from storage.segments import SegmentEnv, compile_rule, parse_rule
from tests.unit.inbox_support import add_sale
from tests.unit.staff_support import make_member

LONDON = ZoneInfo("Europe/London")
FRIDAY_LATE = datetime(2026, 3, 20, 23, 30, tzinfo=LONDON)  # GMT: 23:30 UTC
SUNDAY_AFTER = datetime(2026, 4, 5, 12, 0, tzinfo=LONDON)  # BST: 11:00 UTC


async def _friday_late_sale(app: App, clock: FrozenClock) -> int:
    clock.set(FRIDAY_LATE)
    ploy = await make_member(app, "Ploy", "0811111111", user_id="m1")
    await add_sale(app, ploy.id, "asoke", FRIDAY_LATE.astimezone(UTC), "120.00")
    clock.set(SUNDAY_AFTER)
    return ploy.id


async def _selected(app: App, rule: str) -> list[int]:
    env = SegmentEnv(now=app.clock.now(), tz=LONDON)
    query = select(Member.id).where(Member.id.in_(compile_rule(parse_rule(rule), env)))
    async with app.uow() as uow:
        return list((await session_of(uow).execute(query)).scalars())


async def test_the_console_puts_a_winter_sale_on_its_own_day_when_seen_in_summer(
    app: App, clock: FrozenClock
) -> None:
    await _friday_late_sale(app, clock)
    async with app.uow() as uow:
        [branch] = await sales_by_day(uow, clock.now(), LONDON, 30, None)
    days = {d.day: d.sales for d in branch.days if d.sales}
    assert days == {date(2026, 3, 20): 1}


async def test_the_reports_heat_map_puts_a_winter_sale_on_its_own_weekday_and_hour(
    app: App, clock: FrozenClock
) -> None:
    await _friday_late_sale(app, clock)
    async with app.uow() as uow:
        [branch] = await hours_of_week(uow, clock.now(), LONDON, 30, None)
    cells = {(day, hour) for day, row in enumerate(branch.cells) for hour, n in enumerate(row) if n}
    assert cells == {(4, 23)}  # Friday (Monday is 0), 23:00


@pytest.mark.parametrize(("rule", "hit"), [("weekday = fri", True), ("weekday = sat", False)])
async def test_a_segment_by_weekday_reads_the_sales_own_weekday(
    app: App, clock: FrozenClock, rule: str, hit: bool
) -> None:
    ploy = await _friday_late_sale(app, clock)
    assert await _selected(app, rule) == ([ploy] if hit else [])


async def test_a_segment_by_hour_reads_the_sales_own_hour(app: App, clock: FrozenClock) -> None:
    ploy = await _friday_late_sale(app, clock)
    assert await _selected(app, "hour = 23") == [ploy]


async def test_days_since_the_last_visit_count_the_zones_own_days(
    app: App, clock: FrozenClock
) -> None:
    """Recency is counted from shop midnights (``shop_day_start``): 16 days on both
    databases, although the offset changed in between."""
    ploy = await _friday_late_sale(app, clock)
    assert await _selected(app, "last_visit_days = 16") == [ploy]
