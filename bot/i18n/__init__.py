"""Message catalogs (``th.toml``, ``en.toml``) and Thai-aware formatting of dates, numbers,
money, counts and phone numbers.

Every customer-facing text has a key in both catalogs (a test checks that the keys and their
placeholders match). Thai is the default; dates in Thai show the Buddhist Era year. Numbers go
through babel (thousands separators); a text that counts something is a table of plural forms
(``one``/``other``, CLDR's names) read by :func:`tn`, so English says "1 member", "2 members"
while Thai, which has one form, keeps one text.
"""

from __future__ import annotations

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
from babel.numbers import format_decimal

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
    for the :data:`IDENTIFIERS`.
    """
    text = catalog(locale if locale in LOCALES else DEFAULT_LOCALE).get(key)
    if text is None:
        text = catalog("en").get(key, key)
    if not params:
        return text
    shown = {
        name: format_number(value, locale)
        if type(value) is int and name not in IDENTIFIERS
        else value
        for name, value in params.items()
    }
    return text.format(**shown)


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
    return format_decimal(value, locale=_babel_locale(locale))


def format_baht(amount: Decimal, locale: str) -> str:
    """``1,234 บาท`` in Thai, ``฿1,234`` in English; satang only when there are some."""
    amount = Decimal(amount)
    whole = amount == amount.to_integral_value()
    pattern = "#,##0" if whole else "#,##0.00"
    text = format_decimal(amount, format=pattern, locale=_babel_locale(locale))
    return f"{text} บาท" if locale == "th" else f"฿{text}"


def format_points(points: int, locale: str = DEFAULT_LOCALE) -> str:
    return format_number(points, locale)


def plural_form(locale: str, count: int) -> str:
    """CLDR's plural category of ``count`` in ``locale`` (``one`` or ``other`` here)."""
    return str(Locale.parse(_babel_locale(locale)).plural_form(abs(count)))


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
