"""The shop's calendar (Asia/Bangkok, UTC+7) against the server's (UTC), from outside: sales
recorded with ``/sale`` a few minutes either side of the shop's midnight, then the daily jobs
ticked by the scheduler's own entry (:func:`jobs.scheduler.tick`) on the frozen clock.

A member who buys at 00:30 on 1 March bought on 1 March: the points of a "one month" rule last
until 1 April, and "60 days since the last visit" counts shop days, whatever hour the
last visit was. The small hours of a Bangkok day are still the day before in UTC, which is the
trap these tests walk into on purpose."""

from __future__ import annotations

import re
from datetime import date

from bot.bootstrap import App
from bot.core.clock import FrozenClock
from jobs.scheduler import JOBS, PeriodicJob, tick
from shop.loyalty import SETTINGS_KEY
from tests.chat import Chat
from tests.domain.automation_support import BANGKOK, bangkok, enrolments, set_automations
from tests.unit.admin_support import console_client, signed_in
from tests.unit.sales_support import balance
from tests.unit.scheduler_days_support import phones_until
from tests.unit.staff_support import ensure_branch, make_member, staff_chat


def _job(job_id: str) -> list[PeriodicJob]:
    return [job for job in JOBS if job.id == job_id]


async def _counter(app: App) -> Chat:
    await ensure_branch(app, "asoke")
    return await staff_chat(app, "c1", "owner", language_code="en")


async def _expiry_months(app: App, months: int) -> None:
    async with app.uow() as uow:
        await uow.settings.put(SETTINGS_KEY, {"expiry_months": months}, app.clock.now())
        await uow.commit()


async def test_points_earned_just_after_midnight_on_1_march_last_until_1_april(
    app: App, clock: FrozenClock
) -> None:
    owner = await _counter(app)
    clock.set(bangkok(2027, 3, 1, 0, 30))  # 17:30 UTC on 28 February
    await _expiry_months(app, 1)
    ploy = await make_member(app, "Ploy", "0811111111", user_id="m1", marketing=False)
    await owner.say("/sale 0811111111 2500 receipt=EARLY")
    earned = await balance(app, ploy.id)
    assert earned == 100
    expiry = _job("automations.expiry")
    # the daily 09:00 runs of 29, 30 and 31 March: one calendar month has not passed yet
    for day in (29, 30, 31):
        clock.set(bangkok(2027, 3, day, 9, 5))
        assert await tick(app, expiry) == ["automations.expiry"]
        assert await balance(app, ploy.id) == earned, f"expired on {day} March"
    clock.set(bangkok(2027, 4, 1, 9, 5))
    await tick(app, expiry)
    assert await balance(app, ploy.id) == 0


async def test_a_years_points_earned_on_1_march_survive_29_february_of_the_leap_year(
    app: App, clock: FrozenClock
) -> None:
    owner = await _counter(app)
    clock.set(bangkok(2027, 3, 1, 0, 30))
    ploy = await make_member(app, "Ploy", "0811111111", user_id="m1", marketing=False)
    await owner.say("/sale 0811111111 2500 receipt=EARLY")
    assert await balance(app, ploy.id) == 100
    clock.set(bangkok(2028, 2, 29, 9, 5))
    assert await tick(app, _job("automations.expiry")) == ["automations.expiry"]
    assert await balance(app, ploy.id) == 100


async def test_points_earned_late_on_28_february_are_gone_by_28_march_morning_after(
    app: App, clock: FrozenClock
) -> None:
    """The control of the two above: a sale at 23:30 on 28 February (16:30 UTC, the same day
    on both clocks) expires with the one-month rule at the run after 28 March 23:30."""
    owner = await _counter(app)
    clock.set(bangkok(2027, 2, 28, 23, 30))
    await _expiry_months(app, 1)
    ploy = await make_member(app, "Ploy", "0811111111", user_id="m1", marketing=False)
    await owner.say("/sale 0811111111 2500 receipt=LATE")
    expiry = _job("automations.expiry")
    clock.set(bangkok(2027, 3, 28, 9, 5))
    await tick(app, expiry)
    assert await balance(app, ploy.id) == 100
    clock.set(bangkok(2027, 3, 29, 9, 5))
    await tick(app, expiry)
    assert await balance(app, ploy.id) == 0


async def _last_visits(app: App, owner: Chat, clock: FrozenClock) -> tuple[int, int]:
    """Ploy last bought at 09:00, Nok at 23:30, both on the shop day 2 January 2026."""
    ploy = await make_member(app, "Ploy", "0811111111", user_id="m1", birthday=None)
    nok = await make_member(app, "Nok", "0822222222", user_id="m2", birthday=None)
    clock.set(bangkok(2026, 1, 2, 9, 0))
    await owner.say("/sale 0811111111 120 receipt=MORNING")
    clock.set(bangkok(2026, 1, 2, 23, 30))
    await owner.say("/sale 0822222222 120 receipt=NIGHT")
    return ploy.id, nok.id


async def test_two_members_last_seen_on_the_same_shop_day_are_won_back_on_the_same_day(
    app: App, clock: FrozenClock
) -> None:
    owner = await _counter(app)
    await set_automations(app, {"winback": {"holdout_pct": 0, "lapsed_days": 60}})
    ploy, nok = await _last_visits(app, owner, clock)
    # 2 January + 60 days = 3 March: both have been away 60 shop days at the 10:00 run
    clock.set(bangkok(2026, 3, 3, 10, 5))
    assert await tick(app, _job("automations.winback")) == ["automations.winback"]
    enrolled = {}
    for member in (ploy, nok):
        rows = await enrolments(app, member, "automation:winback")
        enrolled[member] = [row.enrolled_at.astimezone(BANGKOK).date() for _, row in rows]
    assert enrolled == {ploy: [date(2026, 3, 3)], nok: [date(2026, 3, 3)]}


async def test_a_member_last_seen_on_the_shop_day_59_days_ago_is_not_won_back_yet(
    app: App, clock: FrozenClock
) -> None:
    """Whatever the hour, 59 shop days is not 60: neither member is enrolled on 2 March."""
    owner = await _counter(app)
    await set_automations(app, {"winback": {"holdout_pct": 0, "lapsed_days": 60}})
    ploy, nok = await _last_visits(app, owner, clock)
    clock.set(bangkok(2026, 3, 2, 23, 50))  # the 10:00 period of 2 March, caught up late
    await tick(app, _job("automations.winback"))
    for member in (ploy, nok):
        assert await enrolments(app, member, "automation:winback") == []


async def test_a_greeting_hour_set_to_22_still_reaches_the_member_on_their_birthday(
    app: App, clock: FrozenClock
) -> None:
    """22:00 is inside the default quiet hours (21:00-09:00): the greeting would wait for
    09:00 the next day, so the hour is refused with the reason, and the greeting keeps its
    hour (10:00) and reaches the member on their birthday. (The quiet hours are refused
    likewise when they would hold the set greeting hour overnight.)"""
    clock.set(bangkok(2026, 3, 4, 0, 0))
    await set_automations(app, {"birthday": {"holdout_pct": 0}})
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    await owner.press("set:aue:birthday:hour")
    await owner.say("22")
    assert "22:00 is inside the quiet hours (21:00–09:00)" in owner.text()
    async with app.uow() as uow:
        assert (await uow.settings.get("automations"))["birthday"].get("hour") is None
    await make_member(app, "Ploy", "0811111111", user_id="m1", birthday=date(1990, 3, 5))
    received = await phones_until(app, clock, bangkok(2026, 3, 7, 12, 0))
    assert [m.date() for m in received.get("m1", [])] == [date(2026, 3, 5)]


def _windows_sales(page: str) -> list[int]:
    """The overview's "Sales" row: one count per window (7, 30, 90 days)."""
    table = page.split('<table class="windows">', 1)[1].split("</table>", 1)[0]
    row = next(r for r in table.split("<tr>") if r.startswith("<th>Sales</th>"))
    return [int(cell.replace(",", "")) for cell in re.findall(r"<td>([^<]*)</td>", row)]


async def test_the_consoles_last_7_days_are_the_7_shop_days_its_chart_shows(
    app: App, clock: FrozenClock
) -> None:
    owner = await _counter(app)
    await make_member(app, "Ploy", "0811111111", user_id="m1")
    clock.set(bangkok(2026, 3, 3, 15, 0))  # 8 shop days before 10 March
    await owner.say("/sale 0811111111 120 receipt=OLD")
    clock.set(bangkok(2026, 3, 9, 15, 0))
    await owner.say("/sale 0811111111 80 receipt=NEW")
    clock.set(bangkok(2026, 3, 10, 10, 0))
    async with console_client(app) as client:
        browser = await signed_in(client, owner)
        page = await (await browser.get("/admin/?days=7")).text()
    assert "Revenue per day, last 7 days (THB)" in page  # 4 to 10 March: NEW only
    assert _windows_sales(page)[0] == 1


async def test_a_birthday_that_passed_before_the_member_joined_waits_for_next_year(
    app: App, clock: FrozenClock
) -> None:
    await set_automations(app, {"birthday": {"holdout_pct": 0}})
    clock.set(bangkok(2026, 3, 4, 0, 0))
    received = await phones_until(
        app, clock, bangkok(2026, 3, 6, 11, 0)
    )  # the server ran all along
    assert received == {}
    await make_member(app, "Ploy", "0811111111", user_id="m1", birthday=date(1990, 3, 5))
    received = await phones_until(app, clock, bangkok(2026, 3, 8, 12, 0))
    assert received.get("m1", []) == []
