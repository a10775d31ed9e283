"""Reading what an owner types into /settings (the chat or the web console): whole numbers,
dates and names.

Every parser returns a clean value or raises :class:`InvalidInput` with a ``settings.*`` key
whose text shows a valid example; Thai digits and thousands separators are accepted.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from bot.core.errors import InvalidInput
from shop.inputs import common_era_year, thai_digits_to_ascii
from shop.settings_values import parse_whole

MAX_REWARD_NAME: Final = 100
_DAY: Final = re.compile(r"([0-9]{1,2})\s*[/.\-]\s*([0-9]{1,2})\s*[/.\-]\s*([0-9]{4})")
_ISO_DAY: Final = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")


#: a whole number in ``low..high`` (the shop's own parser, shared by every /settings page)
parse_int = parse_whole


def parse_day(text: str) -> date:
    """A calendar day: ``31/12/2569`` (Buddhist Era), ``31/12/2026`` or ``2026-12-31``."""
    plain = thai_digits_to_ascii(text).strip()
    if match := _ISO_DAY.fullmatch(plain):
        year, month, day = (int(part) for part in match.groups())
    elif match := _DAY.fullmatch(plain):
        day, month, year = (int(part) for part in match.groups())
    else:
        raise InvalidInput("settings.bad_date")
    try:
        return date(common_era_year(year), month, day)
    except ValueError:
        raise InvalidInput("settings.bad_date") from None


def start_of(day: date, tz: ZoneInfo) -> datetime:
    """The first instant of ``day`` in the shop's time zone."""
    return datetime.combine(day, time(), tzinfo=tz)


def end_of(day: date, tz: ZoneInfo) -> datetime:
    """The instant ``day`` ends in the shop's time zone (a reward "until" a day includes it)."""
    return start_of(day + timedelta(days=1), tz)


def parse_name(text: str) -> str:
    """A reward name: 1..100 characters, inner whitespace runs folded to one space."""
    name = " ".join(text.split())
    if not name or len(name) > MAX_REWARD_NAME:
        raise InvalidInput("settings.bad_name", max=MAX_REWARD_NAME)
    return name
