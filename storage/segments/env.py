"""What a rule needs to know besides its text: the time, the shop's zone and thresholds."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Final
from zoneinfo import ZoneInfo

from storage.segments.lifecycle import LifecycleRules

#: the default tier table, lowest first: (name, least spend within the tier window, points
#: multiplier); the one table ``shop.loyalty`` builds its default tiers from
DEFAULT_TIER_TABLE: Final = (
    ("member", Decimal(0), Decimal(1)),
    ("silver", Decimal(3000), Decimal("1.25")),
    ("gold", Decimal(10000), Decimal("1.5")),
)
#: (tier name, least spend within the tier window), lowest first
DEFAULT_TIERS: Final = tuple((name, spend) for name, spend, _ in DEFAULT_TIER_TABLE)


@dataclass(frozen=True, slots=True)
class SegmentEnv:
    """``now`` is aware UTC; every window (``visits_30d``, ``last_visit_days``) is measured back
    from it, in ``tz`` where days matter. ``tiers`` and ``tier_window_months`` come from the
    loyalty rules (``handlers.staff.segments.segment_env`` fills them from the shop settings);
    ``saved`` holds the saved segments' rules by name for ``segment = NAME``. ``walking``: the
    condition filters members read in id order until a page is full (the console's member
    list), so a total over all of a member's sales is one index range per member read, not a
    grouped pass over every sale before the first row."""

    now: datetime
    tz: ZoneInfo
    lifecycle: LifecycleRules = field(default_factory=LifecycleRules)
    tiers: tuple[tuple[str, Decimal], ...] = DEFAULT_TIERS
    tier_window_months: int = 12
    saved: Mapping[str, str] = field(default_factory=dict)
    walking: bool = False
