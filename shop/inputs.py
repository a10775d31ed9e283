"""Parsing what people type in chat: Thai phone numbers, birthdays and display names.

Every parser either returns a normalised value or raises :class:`InvalidInput` with the catalog key
(``input.*``) whose message shows what a valid input looks like; nothing here raises anything
else, whatever the text, so no input can reach the user as a stack trace.

Decisions (see PLATFORM_FACTS "Thai specifics"):

- Phones are Thai only. Mobiles (national ``06``/``08``/``09`` + 8 digits) and landlines
  (national ``02``-``05``/``07`` + 7 digits, a shop customer may give the home number) are
  accepted; any other country code is refused with the same key, since the shop can neither
  call nor text it and a mistyped ``+1`` is likelier than a foreign customer. ``+66 0812345678``
  (the trunk ``0`` kept after the country code) is accepted because people write it.
- Birthdays are day-first (Thai and British habit), with a four-digit year: ``>= 2400`` is the
  Buddhist Era. Two-digit years are refused: ``30`` could be 1930, 2030 or BE 2530.
- Amounts of baht are read as ``/sale`` reads them: plain digits with thousands commas and an
  optional ``฿``/``บาท``, at most two decimals (satang) and at most :data:`MAX_MONEY`; an
  exponent (``1e999999``), ``nan`` or ``inf`` is no amount anyone types at a counter.
- Names keep what belongs to the text (Thai, emoji, zero-width space between Thai words, the
  zero-width joiner inside emoji, ``<``/``&`` which the adapters escape) and lose what cannot be
  shown or stored: control characters, bidi controls (an override would reorder the figures
  around the name in a staff message) and lone surrogates.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Final

from babel.dates import get_month_names

from bot.core import bidi
from bot.core.errors import InvalidInput
from bot.core.typed import GROUPED_NUMBER, ZERO_WIDTH
from bot.core.typed import MAX_MONEY as MAX_MONEY

# the shop's parsers and everything that imports them from here read typed digits one way
from bot.core.typed import as_typed_ascii as as_typed_ascii
from bot.core.typed import thai_digits_to_ascii as thai_digits_to_ascii

MAX_NAME_LENGTH: Final = 100
MAX_BIRTHDAY_AGE_YEARS: Final = 120
BUDDHIST_ERA_START: Final = 2400  # a year this large is BE: CE 2400 is centuries away
BUDDHIST_ERA_OFFSET: Final = 543

# Separators people (and phone keyboards' auto-correct) put inside a phone number.
_PHONE_SEPARATORS: Final = re.compile(r"[\s\-\u2010-\u2015\u2212.()]+")
_MOBILE_PREFIXES: Final = frozenset("689")
_LANDLINE_PREFIXES: Final = frozenset("23457")

# [0-9] rather than \d: \d also matches Arabic-Indic and other digits that int() would accept.
_ISO_DATE: Final = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")
_NUMERIC_DATE: Final = re.compile(r"([0-9]{1,2})\s*([/.\-])\s*([0-9]{1,2})\s*\2\s*([0-9]+)")
_NAMED_MONTH_DATE: Final = re.compile(r"([0-9]{1,2})\s*([^0-9]+?)\s*([0-9]+)")
_ERA_MARKERS: Final = ("พศ", "คศ", "be", "ce", "ad")

# /sale's amount: thousands commas only in threes, no sign, no exponent
#: the sign and every decimal are read, so that callers can say "more than 0" or "at most two
#: decimals" rather than "not an amount"
_BAHT: Final = re.compile("-?" + GROUPED_NUMBER)
_CENT: Final = Decimal("0.01")

# A time of day as people write one (``14``, ``14:00``, ``14.00``) and a range of two, spaced or
# not around its dash, ``ถึง`` or ``to``: the offer window and the quiet hours read hours this
# one way. Not inside a longer number (``114-16`` is no range).
_CLOCK: Final = r"([0-9]{1,2})(?:\s*[:.]\s*([0-9]{2}))?"
HOUR_RANGE: Final = re.compile(
    r"(?<![0-9])" + _CLOCK + r"\s*(?:-|–|ถึง|to)\s*" + _CLOCK + r"(?![0-9])"
)

# Zero-width characters: legitimate inside text, meaningless (or dangling) at either end.
_ZERO_WIDTH: Final = ZERO_WIDTH
_EDGE_CHARS: Final = _ZERO_WIDTH + " "
# Translation tables for visible_text: one C-level pass each instead of a Python test per character.
_DROP_SURROGATES: Final = dict.fromkeys(range(0xD800, 0xE000))
# C0, DEL and C1 controls (category Cc) except those that are whitespace (\t, \n, \x1c-\x1f,
# \x85 ...): whitespace is collapsed into a space rather than dropped.
_DROP_CONTROLS: Final = {
    code: None
    for code in range(0xA0)
    if unicodedata.category(chr(code)) == "Cc" and not chr(code).isspace()
}
# Bidi controls: one left open in a name reorders the amount and points a staff message shows
# after it (bot.core.bidi).
_DROP_CONTROLS.update(dict.fromkeys(map(ord, bidi.CONTROLS)))


def parse_phone(text: str) -> str:
    """A Thai phone number in any common written form, as E.164 (``+66812345678``).

    Raises ``InvalidInput("input.phone_invalid")`` for anything that is not a Thai mobile or
    landline number, including foreign numbers.
    """
    if text.isascii():
        # Fast path (imports parse tens of thousands): NFKC and Thai digits change no ASCII text.
        plain = text.replace("+", "").isalnum()  # nothing for the separator pattern to remove
        compact = text if plain else _PHONE_SEPARATORS.sub("", text)
    else:
        # NFKC folds full-width digits and plus signs (from CJK keyboards) into ASCII.
        compact = _PHONE_SEPARATORS.sub("", as_typed_ascii(text))
    international = compact.startswith("+")
    digits = compact.removeprefix("+")
    # isdigit() alone would accept other scripts' digits; with isascii() it is exactly [0-9]+
    if not (digits.isascii() and digits.isdigit()):
        raise InvalidInput("input.phone_invalid")
    if international or digits.startswith("66"):
        # Without "+", a leading 66 can only be the country code: national numbers start with 0.
        if not digits.startswith("66"):
            raise InvalidInput("input.phone_invalid")
        subscriber = digits[2:]
        if subscriber.startswith("0"):
            subscriber = subscriber[1:]
    elif digits.startswith("0"):
        subscriber = digits[1:]
    else:
        raise InvalidInput("input.phone_invalid")
    if not _is_thai_subscriber(subscriber):
        raise InvalidInput("input.phone_invalid")
    return f"+66{subscriber}"


def _is_thai_subscriber(number: str) -> bool:
    """The national significant number (without trunk 0) of a Thai mobile or landline."""
    if len(number) == 9:
        return number[0] in _MOBILE_PREFIXES
    if len(number) == 8:
        return number[0] in _LANDLINE_PREFIXES
    return False


def common_era_year(year: int) -> int:
    """``year`` in the Common Era: a year of :data:`BUDDHIST_ERA_START` or more is Buddhist Era.

    The one place every date parser (chat, settings, imports) takes the Buddhist Era off, always
    before the date is checked: BE 2567 is the leap year 2024, though 2567 is not one.
    """
    return year - BUDDHIST_ERA_OFFSET if year >= BUDDHIST_ERA_START else year


def parse_birthday(text: str, today: date) -> date:
    """A birthday written day-first (``01/05/2530``, ``1-5-1987``, ``1 พ.ค. 2530``) or ISO.

    Raises ``InvalidInput("input.birthday_invalid")`` for unreadable, impossible or more than
    120 years old dates, ``InvalidInput("input.birthday_future")`` for dates after ``today``.
    """
    if not text.isascii():  # NFC and Thai digits change no ASCII text
        text = thai_digits_to_ascii(unicodedata.normalize("NFC", text))
    cleaned = " ".join(text.split())  # runs of whitespace -> one space, trimmed
    if len(cleaned) > 64:  # no real date is this long; keeps the matching cheap
        raise InvalidInput("input.birthday_invalid")
    day, month, year = _split_date(cleaned)
    if len(year) != 4:  # two-digit years are ambiguous, three or five digits are typos
        raise InvalidInput("input.birthday_invalid")
    try:
        born = date(common_era_year(int(year)), month, int(day))
    except ValueError:
        raise InvalidInput("input.birthday_invalid") from None
    if born > today:
        raise InvalidInput("input.birthday_future")
    if born < _years_before(today, MAX_BIRTHDAY_AGE_YEARS):
        raise InvalidInput("input.birthday_invalid")
    return born


def _split_date(text: str) -> tuple[str, int, str]:
    """Day digits, month number and year digits, or InvalidInput."""
    if len(text) == 10 and text[4] == text[7] == "-":  # fast path: YYYY-MM-DD
        year, month, day = text[:4], text[5:7], text[8:]
        if (year + month + day).isdigit() and text.isascii():
            return day, int(month), year
    if match := _ISO_DATE.fullmatch(text):
        year, month, day = match.groups()
        return day, int(month), year
    if match := _NUMERIC_DATE.fullmatch(text):
        day, _, month, year = match.groups()
        return day, int(month), year
    if match := _NAMED_MONTH_DATE.fullmatch(text):
        day, month_name, year = match.groups()
        month_number = _month_numbers().get(_month_key(month_name))
        if month_number is not None:
            return day, month_number, year
    raise InvalidInput("input.birthday_invalid")


def _month_key(name: str) -> str:
    """Compare month names without dots, commas, spaces, case or an era marker (พ.ศ., CE)."""
    key = re.sub(r"[\s.,]", "", name).casefold()
    for marker in _ERA_MARKERS:
        if key.endswith(marker) and len(key) > len(marker):
            return key.removesuffix(marker)
    return key


@cache
def _month_numbers() -> dict[str, int]:
    """``พค``, ``พฤษภาคม``, ``may`` ... -> 5, from Babel's Thai and English month names."""
    numbers: dict[str, int] = {}
    for locale in ("th", "en"):
        for width in ("wide", "abbreviated"):
            for number, name in get_month_names(width, locale=locale).items():
                numbers[_month_key(str(name))] = int(number)
    return numbers


def _years_before(today: date, years: int) -> date:
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February in a year that has none
        return today.replace(year=today.year - years, day=28)


def clock_range(match: re.Match[str]) -> tuple[tuple[int, int], tuple[int, int]]:
    """((hour, minute), (hour, minute)) of a :data:`HOUR_RANGE` match (text with ASCII digits,
    case-folded); a time without minutes is on the hour. Their range is the caller's."""
    h1, m1, h2, m2 = match.groups()
    return (int(h1), int(m1 or 0)), (int(h2), int(m2 or 0))


def visible_text(text: str) -> str:
    """``text`` NFC-normalised, without control characters (NUL among them: PostgreSQL's text
    cannot hold it), bidi controls and lone surrogates. Whitespace controls (tab, line breaks)
    stay, for the caller to collapse or keep."""
    if text.isascii():  # fast path: no surrogates, and NFC changes no ASCII text
        return text if text.isprintable() else text.translate(_DROP_CONTROLS)
    # Surrogates first: NFC normalisation cannot be trusted with half a code point.
    normalised = unicodedata.normalize("NFC", text.translate(_DROP_SURROGATES))
    return normalised.translate(_DROP_CONTROLS)


def clean_name(text: str) -> str:
    """A display name as written, made safe to store: at most MAX_NAME_LENGTH characters.

    NFC-normalises, drops control characters and lone surrogates, turns every run of whitespace
    into one space, trims spaces and zero-width characters at both ends (keeping those inside)
    and caps the length on a code point. HTML-looking text is kept literally: escaping is the
    adapters' job. Raises ``InvalidInput("input.name_invalid")`` when nothing visible is left.
    """
    # split() breaks on the same characters as \s: runs of whitespace become one space
    name = " ".join(visible_text(text).split()).strip(_EDGE_CHARS)
    # Cutting may leave a dangling zero-width joiner or a space at the new end: trim again.
    name = name[:MAX_NAME_LENGTH].rstrip(_EDGE_CHARS)
    if not name:
        raise InvalidInput("input.name_invalid")
    return name


def baht_as_typed(text: str) -> Decimal | None:
    """The number in an amount of baht as people type it (``30``, ``1,500.50``, ``฿30``,
    ``30 บาท``, Thai or full-width digits; commas only between thousands), its sign and every
    decimal as typed; None when it is not written as one. Its range and satang are the
    caller's to check and word (:func:`typed_baht`, ``/sale``'s amount)."""
    cleaned = as_typed_ascii(text).strip()
    cleaned = cleaned.removeprefix("฿").removesuffix("บาท").removesuffix("฿").strip()
    if not _BAHT.fullmatch(cleaned):
        return None
    return Decimal(cleaned.replace(",", ""))


def typed_baht(text: str) -> Decimal | None:
    """An amount of baht as people type it (:func:`baht_as_typed`), or None when it is not one:
    anything but digits, a sign, more than :data:`MAX_MONEY`, or finer than a satang. The
    caller checks its own range and says why in its own words (the rule itself, so
    "฿0.0000001" is refused rather than stored as ฿0)."""
    amount = baht_as_typed(text)
    # the size first: quantizing more digits than the decimal context holds raises
    if amount is None or amount.is_signed() or amount > MAX_MONEY:
        return None
    if amount != amount.quantize(_CENT):
        return None
    return amount.quantize(_CENT)
