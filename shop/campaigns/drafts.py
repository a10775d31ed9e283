"""The answers a new campaign is made of, each checked the same way whether the chat's wizard
(``/campaign new``) or the web console's form asked for it. A bad answer raises
:class:`bot.core.errors.InvalidInput` with the reason's key."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from bot.core.errors import InvalidInput
from shop.inputs import thai_digits_to_ascii
from shop.throttle import Throttle
from storage.uow import UnitOfWork

MAX_LABEL: Final = 20
MAX_NAME: Final = 80
MAX_HOLDOUT: Final = 50
MAX_TITLE: Final = 100
#: test sends one staff member may queue from the console: each is a push (on LINE it counts
#: against the month's quota, unlike the chat's test, which is the answer to a message)
TEST_SEND_THROTTLE: Final = Throttle(("campaign.tested",), limit=5, window=timedelta(minutes=10))
_WHEN: Final = re.compile(r"^(\d{1,2})[/.](\d{1,2})[/.](\d{4})\s+(\d{1,2})[:.](\d{2})$")
#: ASCII digits only: ``str.isdigit`` also accepts "²", which ``int`` refuses
_HOLDOUT: Final = re.compile(r"[0-9]{1,3}")


def check_title(text: str) -> str:
    if not text or len(text) > MAX_TITLE:
        raise InvalidInput("campaign.offer_title_invalid")
    return text


async def check_branches(uow: UnitOfWork, text: str) -> list[str]:
    """The branch codes in ``text`` (commas or spaces between); each an open branch."""
    codes = [c.strip().lower() for c in text.replace(",", " ").split() if c.strip()]
    for code in codes:
        found = await uow.branches.by_code(code)
        if found is None:
            raise InvalidInput("campaign.unknown_branch", code=code)
        if not found.active:
            raise InvalidInput("branches.closed_choice", code=found.code)
    return codes


def check_label(text: str) -> str:
    if not 0 < len(text) <= MAX_LABEL:
        raise InvalidInput("campaign.label_invalid", max=MAX_LABEL)
    return text


def parse_when(text: str, now: datetime, tz: ZoneInfo) -> datetime:
    """``DD/MM/YYYY HH:MM`` in shop time (BE or CE year), in the future."""
    match = _WHEN.match(thai_digits_to_ascii(text))
    if not match:
        raise InvalidInput("campaign.when_invalid")
    day, month, year, hour, minute = (int(g) for g in match.groups())
    year = year - 543 if year > 2400 else year
    try:
        moment = datetime(year, month, day, hour, minute, tzinfo=tz)
    except ValueError:
        raise InvalidInput("campaign.when_invalid") from None
    if moment <= now:
        raise InvalidInput("campaign.when_past")
    return moment


def parse_holdout(text: str) -> int:
    """A hold-out share ("10", "10%", Thai digits) from 0 to :data:`MAX_HOLDOUT`."""
    raw = thai_digits_to_ascii(text).removesuffix("%").strip()
    if not _HOLDOUT.fullmatch(raw) or not 0 <= int(raw) <= MAX_HOLDOUT:
        raise InvalidInput("campaign.holdout_invalid", max=MAX_HOLDOUT)
    return int(raw)
