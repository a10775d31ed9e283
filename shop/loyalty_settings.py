"""The loyalty rules as the owner sets them (chat /settings and the web console): points per
baht, welcome and referral points (and the referral's minimum first purchase and monthly cap),
expiry, the cashier daily cap, the largest sale, and tiers — the ``loyalty`` shop setting that
:meth:`shop.loyalty.LoyaltyRules.from_setting` reads.

One field is changed at a time; only that key of the stored JSON changes, so keys written by
other parts of the product survive. Amounts are stored as decimal strings (exact), counts as
integers. Each change audits ``settings.changed`` with before/after.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, Final

from bot.core.errors import InvalidInput
from shop.inputs import thai_digits_to_ascii
from shop.loyalty import SETTINGS_KEY, LoyaltyRules, Tier
from shop.settings_changes import ChangedBy, save_setting
from shop.settings_values import parse_decimal, parse_whole
from storage.uow import UnitOfWork

_BIG: Final = Decimal(1_000_000_000)
#: field → (kind, lowest, highest)
FIELDS: Final[dict[str, tuple[str, Decimal, Decimal]]] = {
    "baht_per_point": ("decimal", Decimal("0.01"), Decimal(100_000)),
    "welcome_points": ("int", Decimal(0), Decimal(100_000)),
    "referral_points": ("int", Decimal(0), Decimal(100_000)),
    "referral_min_purchase": ("decimal", Decimal(0), _BIG),
    "referral_monthly_cap": ("int", Decimal(1), Decimal(1000)),
    "expiry_months": ("int", Decimal(1), Decimal(120)),
    "cashier_daily_cap": ("decimal", Decimal(0), _BIG),
    "max_sale_amount": ("decimal", Decimal(1), _BIG),
    "tiers": ("tiers", Decimal(0), Decimal(0)),
}
MAX_TIERS: Final = 6
MAX_MULTIPLIER: Final = Decimal(10)
_TIER_NAME: Final = re.compile(r"[^\s]{1,20}")


def current_value(rules: LoyaltyRules, field: str) -> Any:
    """The rule as JSON would hold it (for display and the audit's ``before``)."""
    if field == "tiers":
        return [tier_json(tier) for tier in rules.tiers]
    value = getattr(rules, field)
    return str(value) if isinstance(value, Decimal) else value


def tier_json(tier: Tier) -> dict[str, str]:
    return {"name": tier.name, "min_spend": str(tier.min_spend), "multiplier": str(tier.multiplier)}


def parse_rule(field: str, text: str) -> Any:
    """The JSON value for ``field`` from what the owner typed, or InvalidInput."""
    kind, low, high = FIELDS[field]
    if kind == "int":
        return parse_whole(text, int(low), int(high))
    if kind == "decimal":
        return str(parse_decimal(text, low, high))
    return parse_tiers(text)


def parse_tiers(text: str) -> list[dict[str, str]]:
    """Tiers, one per line (or separated by ``;``): ``name min_spend [multiplier]``.

    The lowest tier must start at 0; minimum spends must differ; names must be unique.
    """
    items = [part.strip() for part in re.split(r"[;\n]", text) if part.strip()]
    if not 0 < len(items) <= MAX_TIERS:
        raise InvalidInput("settings.bad_tiers", max=MAX_TIERS)
    tiers: list[Tier] = []
    for item in items:
        words = thai_digits_to_ascii(item).split()
        if len(words) not in (2, 3) or not _TIER_NAME.fullmatch(words[0]):
            raise InvalidInput("settings.bad_tiers", max=MAX_TIERS)
        name = words[0].lower() if words[0].isascii() else words[0]
        spend = parse_decimal(words[1], Decimal(0), _BIG)
        multiplier = parse_decimal(words[2], Decimal(1), MAX_MULTIPLIER) if len(words) == 3 else 1
        tiers.append(Tier(name, spend, Decimal(multiplier)))
    tiers.sort(key=lambda tier: tier.min_spend)
    names = {tier.name for tier in tiers}
    spends = {tier.min_spend for tier in tiers}
    if tiers[0].min_spend != 0 or len(names) != len(tiers) or len(spends) != len(tiers):
        raise InvalidInput("settings.bad_tiers", max=MAX_TIERS)
    return [tier_json(tier) for tier in tiers]


async def set_rule(uow: UnitOfWork, by: ChangedBy, field: str, text: str) -> Any:
    """Rule ``field`` from what was typed (``InvalidInput`` and nothing changed when refused);
    returns the stored value."""
    if field not in FIELDS:
        raise ValueError(f"no loyalty rule {field!r}")
    value = parse_rule(field, text)
    stored = await uow.settings.get(SETTINGS_KEY) or {}
    before = current_value(LoyaltyRules.from_setting(stored), field)
    stored[field] = value
    await save_setting(
        uow, SETTINGS_KEY, stored, by, field=field, before=before, after=value, entry=field
    )
    return value
