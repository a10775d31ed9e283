"""When in the week a coupon may be used: its ``conditions`` (weekdays, hours, first day).

``Coupon.conditions`` is JSON in shop time: ``{"weekdays": [0, 1, 2, 3, 4]`` (Monday = 0),
``"hours": [14, 16]`` (from 14:00 up to, not including, 16:00), ``"from": "2026-03-02"``
(first valid day)``}``; every key is optional and None means any time until the coupon
expires. A campaign's "1-get-1, Mon–Fri 14:00–16:00" is exactly this.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import get_day_names

from bot.i18n import format_date, t


def within_conditions(conditions: dict[str, Any] | None, now: datetime, tz: ZoneInfo) -> bool:
    """Whether ``now`` (shop time ``tz``) is inside the window ``conditions`` describe."""
    if not conditions:
        return True
    local = now.astimezone(tz)
    first = conditions.get("from")
    if first and local.date() < date.fromisoformat(str(first)):
        return False
    weekdays = conditions.get("weekdays")
    if weekdays and local.weekday() not in {int(day) for day in weekdays}:
        return False
    hours = conditions.get("hours")
    return not hours or int(hours[0]) <= local.hour < int(hours[1])


def describe_conditions(conditions: dict[str, Any] | None, locale: str) -> str:
    """ "Mon–Fri 14:00–16:00" / "จ.–ศ. 14:00–16:00" (plus "from 2 Mar 2026"); "any time"."""
    if not conditions:
        return t(locale, "tracking.any_time")
    parts = []
    weekdays = sorted({int(day) for day in conditions.get("weekdays") or ()})
    if weekdays:
        parts.append(_weekday_ranges(weekdays, locale))
    hours = conditions.get("hours")
    if hours:
        parts.append(f"{int(hours[0]):02d}:00–{int(hours[1]):02d}:00")
    first = conditions.get("from")
    if first:
        day = format_date(date.fromisoformat(str(first)), locale)
        parts.append(t(locale, "tracking.from_day", date=day))
    return " ".join(parts) or t(locale, "tracking.any_time")


def _weekday_ranges(days: list[int], locale: str) -> str:
    """Runs of consecutive days joined with a dash: [0,1,2,3,4] → "Mon–Fri", [5,6] → "Sat–Sun"."""
    names = get_day_names("abbreviated", locale=locale)
    runs: list[list[int]] = []
    for day in days:
        if runs and runs[-1][-1] == day - 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    texts = [
        names[run[0]] if len(run) == 1 else f"{names[run[0]]}–{names[run[-1]]}" for run in runs
    ]
    return ", ".join(texts)
