"""The field table: which fields a rule may name, which operators each takes, and how the
words typed as values become values (``mon`` → 1, ``มีนาคม`` → 3, ``50%`` → 0.5).

Fields ending in ``_Nd`` (``visits_90d``, ``spend_365d``) take any whole number of days N from
1 to 3650. How each field becomes SQL is in :mod:`storage.segments.compiler`.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Final

from bot.core.ids import MAX_ROW_ID, row_id
from bot.core.typed import MAX_MONEY as MAX_MONEY
from bot.core.typed import as_typed_ascii
from storage.segments.syntax import OPERATORS, Scalar, SegmentRuleError, suggest

MAX_DAYS: Final = 3650
EQUALITY: Final = ("=", "!=", "in", "not in")
ORDERED: Final = (*OPERATORS, "in", "not in")
_WINDOWED: Final = re.compile(r"^([a-z_]+?)_(\d+)d$")


class ValueKind(enum.Enum):
    COUNT = "count"  # a whole number ≥ 0
    MONEY = "money"  # baht
    SHARE = "share"  # 0–1 or a percentage
    WORD = "word"  # free text, compared case-insensitively (branch, tag, tier…)
    WEEKDAY = "weekday"
    HOUR = "hour"
    MONTH = "month"
    CHOICE = "choice"  # one of a fixed set (gender, channel, language)
    YES_NO = "yes_no"
    CAMPAIGN = "campaign"  # an id or a name


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    kind: ValueKind
    operators: tuple[str, ...]
    windowed: bool = False  # takes the _Nd suffix
    #: for CHOICE: accepted word → stored value
    choices: tuple[tuple[str, str], ...] = ()


_GENDERS: Final = (
    ("female", "female"), ("f", "female"), ("หญิง", "female"), ("woman", "female"),
    ("male", "male"), ("m", "male"), ("ชาย", "male"), ("man", "male"),
    ("other", "other"), ("อื่น", "other"), ("อื่นๆ", "other"),
)  # fmt: skip
_CHANNELS: Final = (("line", "line"), ("telegram", "telegram"), ("console", "console"))
_LANGUAGES: Final = (
    ("th", "th"), ("thai", "th"), ("ไทย", "th"), ("en", "en"), ("english", "en"), ("อังกฤษ", "en"),
)  # fmt: skip

FIELDS: Final = {
    field.name: field
    for field in (
        Field("branch", ValueKind.WORD, EQUALITY),
        Field("home_branch", ValueKind.WORD, EQUALITY),
        Field("weekday", ValueKind.WEEKDAY, ORDERED),
        Field("hour", ValueKind.HOUR, ORDERED),
        Field("visits", ValueKind.COUNT, ORDERED, windowed=True),
        Field("spend", ValueKind.MONEY, ORDERED, windowed=True),
        Field("avg_ticket", ValueKind.MONEY, ORDERED),
        Field("last_visit_days", ValueKind.COUNT, ORDERED),
        Field("days_since_join", ValueKind.COUNT, ORDERED),
        Field("birth_month", ValueKind.MONTH, ORDERED),
        Field("age", ValueKind.COUNT, ORDERED),
        Field("gender", ValueKind.CHOICE, EQUALITY, choices=_GENDERS),
        Field("tier", ValueKind.WORD, ORDERED),
        Field("points", ValueKind.COUNT, ORDERED),
        Field("tag", ValueKind.WORD, EQUALITY),
        Field("channel", ValueKind.CHOICE, EQUALITY, choices=_CHANNELS),
        Field("language", ValueKind.CHOICE, EQUALITY, choices=_LANGUAGES),
        Field("marketing", ValueKind.YES_NO, ("=", "!=")),
        Field("coupon_share", ValueKind.SHARE, ORDERED),
        Field("category", ValueKind.WORD, EQUALITY),
        Field("clicked", ValueKind.CAMPAIGN, EQUALITY),
        Field("redeemed", ValueKind.CAMPAIGN, EQUALITY),
        Field("segment", ValueKind.WORD, EQUALITY),
    )
}

#: every name a person may type, for suggestions (``visits_90d`` stands for the _Nd family)
KNOWN_NAMES: Final = tuple(f"{f.name}_90d" if f.windowed else f.name for f in FIELDS.values())


def lookup_field(word: str, position: int) -> tuple[Field, int | None]:
    """The field named ``word`` and its N of days (``visits_30d`` → visits, 30); ``visits``
    and ``spend`` alone mean all time."""
    name = word.casefold()
    if name in FIELDS:
        return FIELDS[name], None
    match = _WINDOWED.match(name)
    if match and match.group(1) in FIELDS and FIELDS[match.group(1)].windowed:
        days = int(match.group(2))
        if not 1 <= days <= MAX_DAYS:
            raise SegmentRuleError("segment.bad_days", word, position, str(MAX_DAYS))
        return FIELDS[match.group(1)], days
    raise SegmentRuleError("segment.unknown_field", word, position, suggest(name, KNOWN_NAMES))


_WEEKDAYS: Final = {
    **{name: i + 1 for i, name in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun"))},
    **{
        name: i + 1
        for i, name in enumerate(
            ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
        )
    },
    **{name: i + 1 for i, name in enumerate(("จ", "อ", "พ", "พฤ", "ศ", "ส", "อา"))},
    **{
        name: i + 1
        for i, name in enumerate(("จันทร์", "อังคาร", "พุธ", "พฤหัสบดี", "ศุกร์", "เสาร์", "อาทิตย์"))
    },
    "พฤหัส": 4,
}
_MONTHS_EN: Final = (
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
)  # fmt: skip
_MONTHS_TH: Final = (
    "มกราคม", "กุมภาพันธ์", "มีนาคม", "เมษายน", "พฤษภาคม", "มิถุนายน",
    "กรกฎาคม", "สิงหาคม", "กันยายน", "ตุลาคม", "พฤศจิกายน", "ธันวาคม",
)  # fmt: skip
_MONTHS_TH_SHORT: Final = (
    "ม.ค.", "ก.พ.", "มี.ค.", "เม.ย.", "พ.ค.", "มิ.ย.",
    "ก.ค.", "ส.ค.", "ก.ย.", "ต.ค.", "พ.ย.", "ธ.ค.",
)  # fmt: skip
_MONTHS: Final = {
    **{name: i + 1 for i, name in enumerate(_MONTHS_EN)},
    **{name[:3]: i + 1 for i, name in enumerate(_MONTHS_EN)},
    **{name: i + 1 for i, name in enumerate(_MONTHS_TH)},
    **{name: i + 1 for i, name in enumerate(_MONTHS_TH_SHORT)},
}
#: ``birth_month = current``: the shop's current month when the rule is used
CURRENT_MONTH: Final = "current"
_YES: Final = ("yes", "true", "y", "ใช่", "1")
_NO: Final = ("no", "false", "n", "ไม่", "ไม่ใช่", "0")


def _digits(word: str) -> str | None:
    """``word`` as ASCII digits when it is a whole number typed on any keyboard (``๒``,
    ``２``), else None."""
    plain = as_typed_ascii(word)
    return plain if plain.isascii() and plain.isdigit() else None


def _whole(word: str, position: int, low: int, high: int) -> int:
    plain = _digits(word)
    if plain is None or not low <= int(plain) <= high:
        raise SegmentRuleError("segment.bad_number", word, position, f"{low}–{high}")
    return int(plain)


def _named(table: dict[str, int], low: int, high: int) -> Callable[[str, int], int]:
    def parse(word: str, position: int) -> int:
        name = word.casefold()
        if name in table:
            return table[name]
        if _digits(name) is not None:
            return _whole(word, position, low, high)
        raise SegmentRuleError("segment.unknown_value", word, position, suggest(name, table))

    return parse


def _decimal(word: str, position: int) -> Decimal:
    try:
        value = Decimal(as_typed_ascii(word).replace(",", ""))
    except InvalidOperation:
        raise SegmentRuleError("segment.bad_number", word, position, "0–") from None
    if not value.is_finite() or value < 0:
        raise SegmentRuleError("segment.bad_number", word, position, "0–")
    return value


def _campaign_id(word: str, position: int) -> int:
    """A campaign's id: past a 64-bit integer it names no campaign, and the database would
    refuse the comparison rather than find nobody, so the rule says so where it is read."""
    found = row_id(_digits(word) or "")
    if found is None:
        raise SegmentRuleError("segment.bad_number", word, position, f"1–{MAX_ROW_ID:,}")
    return found


def parse_value(field: Field, word: str, position: int) -> Scalar:
    """The value ``word`` means for ``field``; raises :class:`SegmentRuleError` otherwise."""
    kind = field.kind
    if kind is ValueKind.COUNT:
        return _whole(word, position, 0, 10**9)
    if kind is ValueKind.MONEY:
        amount = _decimal(word, position)
        if amount > MAX_MONEY:
            raise SegmentRuleError("segment.bad_number", word, position, f"0–{MAX_MONEY:,}")
        return amount.quantize(Decimal("0.01"))
    if kind is ValueKind.SHARE:
        percent = as_typed_ascii(word).endswith("%")  # ``๕๐%`` and ``５０％`` too
        share = _decimal(word[:-1], position) / 100 if percent else _decimal(word, position)
        if share > 1:
            raise SegmentRuleError("segment.bad_number", word, position, "0–1")
        return share
    if kind is ValueKind.HOUR:
        return _whole(word, position, 0, 23)
    if kind is ValueKind.WEEKDAY:
        return _named(_WEEKDAYS, 1, 7)(word, position)
    if kind is ValueKind.MONTH:
        if word.casefold() in (CURRENT_MONTH, "this", "เดือนนี้"):
            return CURRENT_MONTH
        return _named(_MONTHS, 1, 12)(word, position)
    if kind is ValueKind.CHOICE:
        choices = dict(field.choices)
        if word.casefold() not in choices:
            raise SegmentRuleError("segment.unknown_value", word, position, suggest(word, choices))
        return choices[word.casefold()]
    if kind is ValueKind.YES_NO:
        if word.casefold() in _YES or word.casefold() in _NO:
            return word.casefold() in _YES
        raise SegmentRuleError(
            "segment.unknown_value", word, position, suggest(word, ("yes", "no"))
        )
    if kind is ValueKind.CAMPAIGN and _digits(word) is not None:
        return _campaign_id(word, position)
    if not word.strip():
        raise SegmentRuleError("segment.empty_value", word, position)
    return unicodedata.normalize("NFC", word.strip()).casefold()
