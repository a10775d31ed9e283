"""Period keys in the shop's time zone, and which period is due for catch-up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from jobs.periods import Period, PeriodicJob, daily_at, every_minutes

BANGKOK = ZoneInfo("Asia/Bangkok")


async def _nothing(app: object, period: Period) -> None:
    return None


def test_daily_period_is_today_once_the_hour_has_passed_in_shop_time() -> None:
    period = daily_at(10, 0)(datetime(2026, 3, 3, 3, 0, tzinfo=UTC), BANGKOK)  # 10:00 Bangkok
    assert (period.key, period.starts_at) == ("2026-03-03", datetime(2026, 3, 3, 3, tzinfo=UTC))


def test_daily_period_is_yesterday_before_the_hour() -> None:
    period = daily_at(10, 0)(datetime(2026, 3, 3, 2, 59, tzinfo=UTC), BANGKOK)
    assert period.key == "2026-03-02"


def test_daily_period_follows_the_shop_day_not_utc_near_midnight() -> None:
    # 23:30 UTC on the 2nd is 06:30 on the 3rd in Bangkok: the shop's day is the 3rd
    period = daily_at(0, 5)(datetime(2026, 3, 2, 23, 30, tzinfo=UTC), BANGKOK)
    assert (period.key, period.day.isoformat()) == ("2026-03-03", "2026-03-03")


def test_minute_slots_are_keyed_by_their_local_start() -> None:
    period = every_minutes(15)(datetime(2026, 3, 3, 3, 44, 59, tzinfo=UTC), BANGKOK)
    assert period.key == "2026-03-03T10:30"
    assert period.starts_at == datetime(2026, 3, 3, 3, 30, tzinfo=UTC)


def test_minute_slots_reject_a_zero_length() -> None:
    with pytest.raises(ValueError, match="every_minutes"):
        every_minutes(0)


def test_a_missed_daily_period_is_due_for_the_rest_of_its_day_by_default() -> None:
    job = PeriodicJob("x", daily_at(10, 0), _nothing)
    late = datetime(2026, 3, 4, 2, 59, tzinfo=UTC)  # 09:59 the next day: still the 3rd's period
    assert job.due(late, BANGKOK) is not None


def test_a_period_past_its_catch_up_window_is_skipped() -> None:
    job = PeriodicJob("x", daily_at(10, 0), _nothing, catch_up=timedelta(hours=2))
    assert job.due(datetime(2026, 3, 3, 4, 59, tzinfo=UTC), BANGKOK) is not None  # 11:59
    assert job.due(datetime(2026, 3, 3, 5, 1, tzinfo=UTC), BANGKOK) is None  # 12:01
