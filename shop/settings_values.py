"""What an owner may type into /settings for the contact policy, the lifecycle thresholds, the
automations' texts and gifts and the tiers' display names.

Each parser returns the value to store or raises :class:`InvalidInput` with a ``prefs.*`` (or
``settings.*``) key whose text shows a valid example, so a refused value changes nothing. Thai
digits and thousands separators are accepted wherever a number is typed.
"""

from __future__ import annotations

import re
from dataclasses import replace
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from bot.core.errors import InvalidInput
from bot.core.typed import misplaced_comma
from shop.campaigns.offers import KINDS, parse_value
from shop.campaigns.templates import validate_template
from shop.inputs import HOUR_RANGE, clock_range, thai_digits_to_ascii
from storage.segments.lifecycle import GROUP_PRECEDENCE, OTHER_GROUP, LifecycleRules

#: every lifecycle group a frequency cap is kept for (``other``: members in none of them)
CAP_GROUPS: Final = (*GROUP_PRECEDENCE, OTHER_GROUP)
#: promotions one member may get per window, and the window's length in days
CAP_RANGE: Final = (0, 50)
CAP_DAYS_RANGE: Final = (1, 90)
#: lifecycle threshold → (kind, lowest, highest); ``percent`` is typed 1-100, stored as a share
LIFECYCLE_FIELDS: Final[dict[str, tuple[str, int, int]]] = {
    "new_days": ("int", 1, 365),
    "lapsed_days": ("int", 7, 730),
    "window_days": ("int", 7, 730),
    "returning_min": ("int", 1, 100),
    "regular_min": ("int", 2, 365),
    "fan_spend": ("baht", 0, 100_000_000),
    "fan_days": ("int", 7, 730),
    "deal_share": ("percent", 1, 100),
    "deal_min_visits": ("int", 1, 100),
}
#: the automations whose message the owner may write, and those that also give a gift
TEXT_AUTOMATIONS: Final = ("birthday", "winback", "expiry")
GIFT_AUTOMATIONS: Final = ("birthday", "winback")
#: what an owner types to go back to the built-in wording of a message
RESET_WORDS: Final = frozenset({"-", "default", "ค่าเดิม"})
MAX_TIER_LABEL: Final = 30
#: of a refused number, the characters quoted back
MAX_SHOWN: Final = 30


def _plain(text: str) -> str:
    """The number typed, Thai digits made ASCII, without spaces and thousands commas; a comma
    between no thousands (``1,5`` for 1.5) is refused, never dropped into ten times the value."""
    plain = thai_digits_to_ascii(text).strip().replace(" ", "")
    if misplaced_comma(plain):
        raise InvalidInput("settings.bad_comma", value=text.strip()[:MAX_SHOWN])
    return plain.replace(",", "")


def parse_whole(text: str, low: int, high: int) -> int:
    """A whole number in ``low..high``; else ``settings.bad_int``."""
    plain = _plain(text)
    if not re.fullmatch(r"[0-9]{1,12}", plain) or not low <= int(plain) <= high:
        raise InvalidInput("settings.bad_int", low=f"{low:,}", high=f"{high:,}")
    return int(plain)


def parse_quiet_hours(text: str) -> list[str]:
    """``21:00-09:00`` (or ``21.00 - 9.00``, ``22:30 ถึง 06:00``, ``21-9``, read as every hour
    range is: :data:`shop.inputs.HOUR_RANGE`): the quiet hours as stored, ``["HH:MM", "HH:MM"]``
    in shop time. A window across midnight is the usual case; a window that starts when it
    ends would silence nothing and is refused."""
    match = HOUR_RANGE.fullmatch(thai_digits_to_ascii(text).strip().casefold())
    if not match:
        raise InvalidInput("prefs.bad_quiet")
    (h1, m1), (h2, m2) = clock_range(match)
    if not (0 <= h1 <= 23 and 0 <= h2 <= 23 and 0 <= m1 <= 59 and 0 <= m2 <= 59):
        raise InvalidInput("prefs.bad_quiet")
    if (h1, m1) == (h2, m2):
        raise InvalidInput("prefs.quiet_same")
    return [f"{h1:02d}:{m1:02d}", f"{h2:02d}:{m2:02d}"]


def parse_cap(text: str) -> int:
    """Promotions one member of a group may get per window."""
    return parse_whole(text, *CAP_RANGE)


def parse_cap_days(text: str) -> int:
    """The frequency caps' rolling window, in days."""
    return parse_whole(text, *CAP_DAYS_RANGE)


def lifecycle_value(rules: LifecycleRules, field: str) -> Any:
    """The threshold as the setting's JSON holds it (and the audit shows it)."""
    value = getattr(rules, field)
    return str(value) if isinstance(value, Decimal) else value


def apply_lifecycle(rules: LifecycleRules, field: str, text: str) -> LifecycleRules:
    """``rules`` with ``field`` set to what the owner typed; refused when out of range or when
    the thresholds would contradict each other (a regular needs more visits than a returning
    member)."""
    kind, low, high = LIFECYCLE_FIELDS[field]
    value: Any
    if kind == "int":
        value = parse_whole(text, low, high)
    elif kind == "percent":
        value = Decimal(parse_whole(text.strip().removesuffix("%"), low, high)) / 100
    else:
        value = _baht(text, low, high)
    return check_lifecycle(replace(rules, **{field: value}))


def check_lifecycle(rules: LifecycleRules) -> LifecycleRules:
    """``rules`` when its thresholds agree (a regular needs more visits than a returning
    member); else ``prefs.bad_lifecycle_order``."""
    if rules.regular_min <= rules.returning_min:
        raise InvalidInput("prefs.bad_lifecycle_order")
    return rules


def stored_value(field: str, value: Any) -> Any:
    """A threshold read back from :func:`lifecycle_value`'s JSON form."""
    return Decimal(str(value)) if LIFECYCLE_FIELDS[field][0] != "int" else int(value)


def parse_decimal(text: str, low: Decimal, high: Decimal) -> Decimal:
    """A number with at most two decimals in ``low..high``; else ``settings.bad_number``."""
    plain = _plain(text)
    try:
        if not re.fullmatch(r"[0-9]{1,12}(\.[0-9]{1,2})?", plain):
            raise InvalidOperation
        value = Decimal(plain)
    except InvalidOperation:
        value = None
    if value is None or not low <= value <= high:
        raise InvalidInput("settings.bad_number", low=f"{low:,}", high=f"{high:,}")
    return value


def _baht(text: str, low: int, high: int) -> Decimal:
    return parse_decimal(text, Decimal(low), Decimal(high))


def parse_automation_text(text: str) -> str:
    """An automation's message in one language, checked against the campaigns' placeholder
    whitelist (:func:`shop.campaigns.templates.validate_template`); ``""`` (typed ``-``)
    means the built-in wording."""
    stripped = text.strip()
    if stripped.casefold() in RESET_WORDS:
        return ""
    return validate_template(stripped)


def parse_gift(kind: str, text: str) -> dict[str, str]:
    """An automation's gift (the offer its coupon gives): ``kind`` as the campaigns' offers
    know it and the typed value, checked by :func:`shop.campaigns.offers.parse_value`."""
    if kind not in KINDS:
        raise InvalidInput("campaign.offer_kind_unknown", word=kind)
    return {"kind": kind, "value": parse_value(kind, text)}


def parse_tier_label(text: str) -> str:
    """A tier's display name in one language: 1-30 characters on one line."""
    label = " ".join(text.split())
    if not label or len(label) > MAX_TIER_LABEL:
        raise InvalidInput("prefs.bad_tier_label", max=MAX_TIER_LABEL)
    return label
