"""SQLite's shift to shop time (:mod:`storage.zone_shift`): one fixed modifier for a zone
that never changed its offset, each stored time's own offset for one that did."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from storage.zone_shift import fixed_shift, zone_shift


def _stored(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


@pytest.mark.parametrize(
    ("zone", "shift"), [("Asia/Bangkok", "+25200 seconds"), ("UTC", "+0 seconds")]
)
def test_a_zone_without_changes_has_one_shift(zone: str, shift: str) -> None:
    assert fixed_shift(ZoneInfo(zone)) == shift


@pytest.mark.parametrize("zone", ["Europe/London", "America/New_York", "Australia/Lord_Howe"])
def test_each_time_takes_its_own_offset_either_side_of_every_change(zone: str) -> None:
    tz = ZoneInfo(zone)
    assert fixed_shift(tz) is None
    moment = datetime(2024, 1, 1, tzinfo=UTC)
    while moment.year < 2027:  # every half hour, and a second before each
        for at in (moment - timedelta(seconds=1), moment):
            offset = at.astimezone(tz).utcoffset()
            assert offset is not None
            assert zone_shift(_stored(at), zone) == f"{int(offset.total_seconds()):+d} seconds"
        moment += timedelta(minutes=30)


def test_no_time_no_shift() -> None:
    assert zone_shift(None, "Europe/London") is None
