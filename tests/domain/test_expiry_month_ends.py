"""Points earned on a month-end day, run through the daily expiry job at 09:00 shop time as the
scheduler runs it (the clock in UTC, as the server's): every lot gets exactly one reminder, 30
days before the shop day it expires on, and it expires at that day's run or the next one.

The lot's expiry is ``expiry_months`` after the moment it was earned, on the shop's calendar: a
purchase in the small hours of a Bangkok day belongs to that shop day, though it is still the
day before in UTC, and months of different lengths clamp the day (31 March less a month is
28 February): the reminder must find the lot on the day it really expires, and the expiry must
not wait for the next month's days to catch up."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from bot.bootstrap import App
from bot.core.clock import FrozenClock
from jobs.automations.expiry import run_expiry
from shop.loyalty import SETTINGS_KEY, add_months, earned_between, lot_expiry
from storage.models import PointsEntry
from storage.raw_session import session_of
from tests.domain.automation_support import BANGKOK, bangkok, outbox_for, run_days
from tests.unit.staff_support import make_member


async def _expired_on(app: App, member_id: int) -> list[date]:
    """The shop days of the member's ``expire`` entries."""
    async with app.uow() as uow:
        result = await session_of(uow).execute(
            select(PointsEntry.created_at).where(
                PointsEntry.member_id == member_id, PointsEntry.reason == "expire"
            )
        )
        return [moment.astimezone(BANGKOK).date() for moment in result.scalars().all()]


@pytest.mark.parametrize(
    ("earned", "months"),
    [
        pytest.param(bangkok(2028, 2, 29, 3), 12, id="29-feb-before-7am"),
        pytest.param(bangkok(2028, 2, 29, 10), 12, id="29-feb-daytime"),
        pytest.param(bangkok(2028, 2, 28, 23, 30), 12, id="28-feb-late"),
        pytest.param(bangkok(2029, 1, 31, 3), 1, id="31-jan-before-7am-one-month"),
        pytest.param(bangkok(2029, 2, 28, 10), 1, id="28-feb-daytime-one-month"),
        pytest.param(bangkok(2029, 3, 31, 6), 1, id="31-mar-before-7am-one-month"),
        pytest.param(bangkok(2028, 8, 31, 2), 6, id="31-aug-before-7am-six-months"),
    ],
)
async def test_points_earned_on_a_month_end_are_reminded_once_before_they_expire(
    app: App, clock: FrozenClock, earned: datetime, months: int
) -> None:
    clock.set(earned.astimezone(UTC))
    async with app.uow() as uow:
        await uow.settings.put(SETTINGS_KEY, {"expiry_months": months}, clock.now())
        await uow.commit()
    member = await make_member(app, "Ploy", user_id="m1", marketing=False)
    async with app.uow() as uow:
        await uow.points.append(member.id, 120, "adjust", clock.now())
        await uow.commit()
    # every day at 09:00 shop time, from 40 days before the month-end mark to 5 days after it
    first = add_months(earned, months).date() - timedelta(days=40)
    clock.set(bangkok(first.year, first.month, first.day, 9).astimezone(UTC))
    await run_days(app, clock, run_expiry, 46)
    reminders = await outbox_for(app, member.id, "autoexp:")
    assert len(reminders) == 1, [row.dedupe_key for row in reminders]
    announced = date.fromisoformat(reminders[0].dedupe_key.rsplit(":", 1)[1])
    assert reminders[0].created_at.astimezone(BANGKOK).date() == announced - timedelta(days=30)
    [expired] = await _expired_on(app, member.id)
    assert expired - announced in (timedelta(0), timedelta(days=1)), (announced, expired)


@pytest.mark.parametrize("months", [1, 2, 6, 11, 12, 13])
def test_every_credit_is_in_the_pre_selection_of_the_shop_day_its_points_expire_on(
    months: int,
) -> None:
    """Every half hour of 2027 and 2028 (a leap year): the reminder's range of earning times for
    the shop day the lot expires on holds the credit, and so does the expiry's at the first
    09:00 run after it expired."""
    earned = datetime(2027, 1, 1, tzinfo=UTC)
    while earned < datetime(2029, 1, 1, tzinfo=UTC):
        expires = lot_expiry(earned, months, BANGKOK)
        # the shop day it was earned on, ``months`` later (clamped to a shorter month's end)
        assert (
            expires.astimezone(BANGKOK).date()
            == add_months(earned.astimezone(BANGKOK), months).date()
        )
        day = expires.astimezone(BANGKOK).date()
        start = datetime.combine(day, time(), tzinfo=BANGKOK)
        lowest, before = earned_between(start, start + timedelta(days=1), months, BANGKOK)
        assert lowest <= earned < before, (earned, expires)
        nine = start.replace(hour=9)
        run = nine if nine >= expires else nine + timedelta(days=1)
        assert earned < earned_between(run, run + timedelta(microseconds=1), months, BANGKOK)[1]
        earned += timedelta(minutes=30)
