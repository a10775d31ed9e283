"""Message catalogs (``th.toml``, ``en.toml``) and Thai-aware formatting of dates and money.

Every customer-facing text has a key in both catalogs (a test checks that the keys and their
placeholders match). Thai is the default; dates in Thai show the Buddhist Era year.
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

from babel.dates import get_month_names

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


def t(locale: str, key: str, **params: Any) -> str:
    """The text for ``key`` in ``locale`` (English, then the key itself, as fallbacks)."""
    text = catalog(locale if locale in LOCALES else DEFAULT_LOCALE).get(key)
    if text is None:
        text = catalog("en").get(key, key)
    return text.format(**params) if params else text


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


def format_baht(amount: Decimal, locale: str) -> str:
    text = f"{amount:,.2f}".removesuffix(".00")
    return f"{text} บาท" if locale == "th" else f"฿{text}"


def format_points(points: int) -> str:
    return f"{points:,}"
