"""When in the week a coupon may be used: its ``conditions`` (weekdays, hours, first day).

``Coupon.conditions`` is JSON in shop time: ``{"weekdays": [0, 1, 2, 3, 4]`` (Monday = 0),
``"hours": [14, 16]`` (from 14:00 up to, not including, 16:00), ``"from": "2026-03-02"``
(first valid day)``}``; every key is optional and None means any time until the coupon
expires. A campaign's "1-get-1, Mon–Fri 14:00–16:00" is exactly this
(``wording.coupons.describe_conditions`` words it).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo


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
