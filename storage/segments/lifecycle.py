"""Built-in lifecycle segments and their thresholds (shop setting ``lifecycle``).

Defaults (each is a key of the setting's JSON, so an owner can change it in ``/settings``):

- **new** (ลูกค้าใหม่): joined at most ``new_days`` = 30 days ago.
- **returning** (ลูกค้าติดใจ): ``returning_min`` = 2 to ``regular_min - 1`` = 4 visits in the
  last ``window_days`` = 90 days.
- **regular** (ขาประจำ): at least ``regular_min`` = 5 visits in the last 90 days.
- **fan** (แฟนพันธุ์แท้): the top spenders — at least ``fan_spend`` = 5,000 THB in the last
  ``fan_days`` = 365 days. (Referrals are not part of it: a referral that never bought says
  little, and spend is what the shop can measure for everyone.)
- **deal_seeker** (สายโปร): at least ``deal_share`` = 50% of visits with a coupon, and at least
  ``deal_min_visits`` = 2 visits ever.
- **lapsed** (ห่างหายไป): at least one visit ever, none in the last ``lapsed_days`` = 60 days.
- **birthday_month** (เกิดเดือนนี้): born in the shop's current month.

The groups overlap as rules (a fan may also be a regular); :func:`lifecycle_group` in
:mod:`storage.segments.compiler` gives each member exactly one, in the order of
:data:`GROUP_PRECEDENCE`, for frequency caps.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any, Final

SETTINGS_KEY: Final = "lifecycle"
#: a member's one lifecycle group is the first of these whose rule they match, else ``other``
GROUP_PRECEDENCE: Final = ("deal_seeker", "fan", "regular", "returning", "new", "lapsed")
OTHER_GROUP: Final = "other"


@dataclass(frozen=True, slots=True)
class LifecycleRules:
    new_days: int = 30
    window_days: int = 90
    returning_min: int = 2
    regular_min: int = 5
    fan_spend: Decimal = Decimal(5000)
    fan_days: int = 365
    deal_share: Decimal = Decimal("0.5")
    deal_min_visits: int = 2
    lapsed_days: int = 60

    @classmethod
    def from_setting(cls, value: Mapping[str, Any] | None) -> LifecycleRules:
        """Thresholds from the stored JSON; missing or unusable entries keep their defaults."""
        if not value:
            return cls()
        base = cls()
        found: dict[str, Any] = {}
        for item in fields(cls):
            raw = value.get(item.name)
            if raw is None or isinstance(raw, bool):
                continue
            default = getattr(base, item.name)
            try:
                parsed: Any = Decimal(str(raw)) if isinstance(default, Decimal) else int(raw)
            except (ValueError, ArithmeticError):
                continue
            if parsed >= 0:
                found[item.name] = parsed
        rules = cls(**{**{f.name: getattr(base, f.name) for f in fields(cls)}, **found})
        if rules.regular_min <= rules.returning_min or rules.window_days < 1:
            return base  # thresholds that contradict each other: keep the coherent defaults
        return rules

    def to_setting(self) -> dict[str, Any]:
        return {
            item.name: str(getattr(self, item.name))
            if isinstance(getattr(self, item.name), Decimal)
            else getattr(self, item.name)
            for item in fields(self)
        }


def builtin_rules(rules: LifecycleRules) -> dict[str, str]:
    """The rule text of each built-in segment for these thresholds."""
    w = rules.window_days
    return {
        "new": f"days_since_join <= {rules.new_days}",
        "returning": (
            f"visits_{w}d >= {rules.returning_min} and visits_{w}d < {rules.regular_min}"
        ),
        "regular": f"visits_{w}d >= {rules.regular_min}",
        "fan": f"spend_{rules.fan_days}d >= {rules.fan_spend}",
        "deal_seeker": (
            f"coupon_share >= {rules.deal_share} and visits >= {rules.deal_min_visits}"
        ),
        "lapsed": f"visits >= 1 and last_visit_days >= {rules.lapsed_days}",
        "birthday_month": "birth_month = current",
    }


#: the built-in segments with the default thresholds (names are reserved for saved segments)
BUILTIN_SEGMENTS: Final = builtin_rules(LifecycleRules())
