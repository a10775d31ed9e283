"""Message catalogs (``th.toml``, ``en.toml``) and Thai-aware formatting of dates, numbers,
money, counts and phone numbers.

Every customer-facing text has a key in both catalogs (a test checks that the keys and their
placeholders match). Thai is the default; dates in Thai show the Buddhist Era year. Numbers go
through babel (thousands separators); a text that counts something is a table of plural forms
(``one``/``other``, CLDR's names) read by :func:`tn`, so English says "1 member", "2 members"
while Thai, which has one form, keeps one text. Inside a longer text a count is written with its
unit, ``{points:points}``, read from the ``count`` tables by :func:`render`, so each count of a
text ("+1 point · balance 12 points") takes its own form.
"""

from __future__ import annotations

import re
import tomllib
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from string import Formatter
from typing import Any, Final
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import get_month_names
from babel.numbers import NumberPattern, parse_pattern

from bot.core.bidi import isolated

LOCALES: Final = ("th", "en")
DEFAULT_LOCALE: Final = "th"
BUDDHIST_ERA_OFFSET: Final = 543

_DIR = Path(__file__).parent


def _flatten(prefix: str, table: dict[str, Any], out: dict[str, str]) -> None:
    for key, value in table.items():
        name = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            _flatten(name, value, out)
        else:
            out[name] = str(value)


@cache
def catalog(locale: str) -> dict[str, str]:
    with (_DIR / f"{locale}.toml").open("rb") as handle:
        data = tomllib.load(handle)
    flat: dict[str, str] = {}
    _flatten("", data, flat)
    return flat


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(text) if name}


def supported_locale(code: str | None) -> str | None:
    """Map a platform language hint (``th``, ``en-US``, ``en_GB``) onto a supported locale."""
    if not code:
        return None
    base = code.replace("_", "-").split("-")[0].lower()
    return base if base in LOCALES else None


#: whole-number placeholders that name something rather than count it: written as they are
#: (``/campaign preview 1234`` must stay typeable; an hour is not a quantity)
IDENTIFIERS: Final = frozenset({"id", "hour", "day", "position", "version", "year", "value"})


def t(locale: str, key: str, **params: Any) -> str:
    """The text for ``key`` in ``locale`` (English, then the key itself, as fallbacks).

    Whole numbers among ``params`` are counts and get the locale's thousands separators, but
    for the :data:`IDENTIFIERS`. A count written ``{points:points}`` is shown with its unit in
    the plural form it needs (``1 point``, ``2 points``): see :func:`render`.
    """
    text = catalog(locale if locale in LOCALES else DEFAULT_LOCALE).get(key)
    if text is None:
        text = catalog("en").get(key, key)
    if not params:
        return text
    return render(locale, text, **params)


#: ``{name:unit}``: the count ``name`` followed by its unit, the ``count.<unit>`` plural table
_UNIT: Final = re.compile(r"\{(\w+):(\w+)\}")


def render(locale: str, text: str, /, **params: Any) -> str:
    """``text`` (a catalog text) with ``params`` filled in.

    A placeholder with a unit, ``{points:points}``, becomes the ``count.points`` table's form
    for that count ("1 point", "3 points"): in a text with several counts ("+1 point · balance
    12 points") each takes its own form, which one table for the whole text could not give.
    Thai, without plural forms, simply writes ``{points} คะแนน``. A text value in a
    right-to-left script (a member's Hebrew or Arabic name) is set in an isolate, so it cannot
    pull the figures beside it out of order (:func:`bot.core.bidi.isolated`)."""
    shown = {
        name: format_number(value, locale)
        if type(value) is int and name not in IDENTIFIERS
        else isolated(value)
        if type(value) is str
        else value
        for name, value in params.items()
    }

    def with_unit(match: re.Match[str]) -> str:
        name, unit = match.groups()
        phrase = f"{name}__{unit}"
        shown[phrase] = _counted(locale, unit, params.get(name, ""))
        return "{" + phrase + "}"

    return _UNIT.sub(with_unit, text).format(**shown)


def _counted(locale: str, unit: str, value: Any) -> str:
    """``value`` with ``unit`` in the plural form its number asks for. A value already written
    (``"+5"``, ``"1,234"``) is kept as written; one that is no number at all (a template's own
    ``{points}``) takes the ``other`` form."""
    number: int | None = None
    if type(value) is int:
        number, value = value, format_number(value, locale)
    elif isinstance(value, Decimal) and value == value.to_integral_value():
        number, value = int(value), format_number(value, locale)
    elif isinstance(value, str) and _WRITTEN_COUNT.fullmatch(value.strip()):
        number = int(value.strip().lstrip("+").replace(",", ""))
    form = "other" if number is None else plural_form(locale, number)
    entries = catalog(locale if locale in LOCALES else DEFAULT_LOCALE)
    key = f"count.{unit}.{form}"
    return t(locale, key if key in entries else f"count.{unit}.other", count=value)


_WRITTEN_COUNT: Final = re.compile(r"[+-]?[0-9][0-9,]*")


def format_date(value: date, locale: str) -> str:
    """``1 พ.ค. 2530`` in Thai (Buddhist Era), ``1 May 1987`` in English."""
    if locale == "th":
        month = get_month_names("abbreviated", locale="th")[value.month]
        return f"{value.day} {month} {value.year + BUDDHIST_ERA_OFFSET}"
    month = get_month_names("abbreviated", locale="en")[value.month]
    return f"{value.day} {month} {value.year}"


def format_datetime(value: datetime, locale: str, tz: ZoneInfo) -> str:
    local = value.astimezone(tz)
    return f"{format_date(local.date(), locale)} {local:%H:%M}"


def format_number(value: int | Decimal | float, locale: str = DEFAULT_LOCALE) -> str:
    """``1,234`` (and ``1,234.5``): grouped the locale's way."""
    return _decimal(value, _babel_locale(locale), None)


def format_baht(amount: Decimal, locale: str) -> str:
    """``1,234 บาท`` in Thai, ``฿1,234`` in English; satang only when there are some."""
    amount = Decimal(amount)
    whole = amount == amount.to_integral_value()
    pattern = "#,##0" if whole else "#,##0.00"
    text = _decimal(amount, _babel_locale(locale), pattern)
    return f"{text} บาท" if locale == "th" else f"฿{text}"


def format_points(points: int, locale: str = DEFAULT_LOCALE) -> str:
    return format_number(points, locale)


def plural_form(locale: str, count: int) -> str:
    """CLDR's plural category of ``count`` in ``locale`` (``one`` or ``other`` here)."""
    return str(_locale(_babel_locale(locale)).plural_form(abs(count)))


def tn(locale: str, key: str, count: int, **params: Any) -> str:
    """The text for ``count`` of something: ``key.one`` or ``key.other`` by the locale's plural
    rules, with ``{count}`` written with thousands separators."""
    form = plural_form(locale, count)
    entries = catalog(locale if locale in LOCALES else DEFAULT_LOCALE)
    chosen = f"{key}.{form}" if f"{key}.{form}" in entries else f"{key}.other"
    return t(locale, chosen, count=format_number(count, locale), **params)


def format_phone(e164: str | None) -> str:
    """A stored phone number as people write it, the same for customer and staff: ``+66812345678``
    → ``081-234-5678`` (landlines ``02-123-4567``); a foreign number stays international."""
    if not e164:
        return "-"
    if not e164.startswith("+66"):
        return e164
    digits = "0" + e164[3:]
    if len(digits) == 10:
        return f"{digits[:3]}-{digits[3:6]}-{digits[6:]}"
    return f"{digits[:2]}-{digits[2:5]}-{digits[5:]}"


def channel_name(locale: str, channel: str) -> str:
    """A chat channel's name for people (``Telegram``, ``LINE``, ``คอนโซล``)."""
    return t(locale, f"link.{channel}")


def _babel_locale(locale: str) -> str:
    return locale if locale in LOCALES else DEFAULT_LOCALE


# babel's ``format_decimal`` parses its locale and its pattern on every call; the locales are
# the two supported ones and the patterns a few fixed strings, so each is parsed once per
# process and applied as ``format_decimal`` applies it (the same text, its defaults kept)


@cache
def _locale(code: str) -> Locale:
    return Locale.parse(code)


@cache
def _pattern(code: str, pattern: str | None) -> NumberPattern:
    return parse_pattern(_locale(code).decimal_formats[None] if pattern is None else pattern)


#: patterns that write a whole number as Python's ``format(value, ",")`` does, given a ``,``
#: group and a ``-`` minus sign (both locales': checked once in :func:`_grouped_ints`)
_GROUPED_INT_PATTERNS: Final = frozenset({"#,##0.###", "#,##0"})
#: babel writes whole numbers through a 28-digit decimal context (it refuses longer ones): the
#: direct way is kept well inside it
_WHOLE_LIMIT: Final = 10**18


@cache
def _grouped_ints(code: str, pattern: str | None) -> bool:
    """Whole numbers in ``pattern`` for ``code`` are ``format(value, ",")``: no fraction, groups
    of three, the ``,`` group and ``-`` minus, nothing before or after."""
    parsed, symbols = _pattern(code, pattern), _locale(code).number_symbols["latn"]
    return (
        parsed.pattern in _GROUPED_INT_PATTERNS
        and parsed.grouping == (3, 3)
        and parsed.prefix == ("", "-")
        and parsed.suffix == ("", "")
        and symbols["group"] == ","
        and symbols["minusSign"] == "-"
    )


def _decimal(value: int | Decimal | float, code: str, pattern: str | None) -> str:
    """``babel.numbers.format_decimal(value, format=pattern, locale=code)``; a whole number
    (most are: points, counts) written directly when the pattern writes it that way."""
    if type(value) is int and -_WHOLE_LIMIT < value < _WHOLE_LIMIT and _grouped_ints(code, pattern):
        return format(value, ",")
    return str(_pattern(code, pattern).apply(value, _locale(code)))
