"""Campaign offers: what a claimed promotion gives, when and where it can be redeemed.

An offer is stored as JSON on the campaign and becomes a coupon when a member presses the
promotion's button (``Coupon.conditions`` carries the weekdays and hours). Typed values are
forgiving: Thai digits, Buddhist Era years, Thai or English weekday names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Final
from zoneinfo import ZoneInfo

from bot.core.errors import InvalidInput
from bot.core.typed import ungrouped
from shop.inputs import HOUR_RANGE, as_typed_ascii, clock_range, thai_digits_to_ascii, typed_baht

KINDS: Final = ("free_item", "percent", "baht", "buy_x_get_y", "bonus_points")
#: the most a baht discount, or one redemption's cost to the shop, may be
MAX_OFFER_BAHT: Final = Decimal(100000)
DEFAULT_VALID_DAYS: Final = 14
MAX_TITLE_LENGTH: Final = 100
WEEKDAY_WORDS: Final = {
    **{w: i for i, w in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun"))},
    **{w: i for i, w in enumerate(("จ", "อ", "พ", "พฤ", "ศ", "ส", "อา"))},
    **{w: i for i, w in enumerate(("จันทร์", "อังคาร", "พุธ", "พฤหัส", "ศุกร์", "เสาร์", "อาทิตย์"))},
}
_DATE: Final = re.compile(r"^(\d{1,2})[/.](\d{1,2})[/.](\d{4})$")
_BUY_GET: Final = re.compile(r"^(\d{1,2})\s*[-+/x:]\s*(\d{1,2})$")


class OfferError(InvalidInput):
    key = "campaign.offer_invalid"


@dataclass(frozen=True, slots=True)
class Offer:
    """``value``: the item (free_item), percent, baht, ``"X-Y"`` (buy_x_get_y) or points."""

    kind: str
    value: str
    title_th: str = ""
    title_en: str = ""
    valid_from: date | None = None
    valid_until: date | None = None
    weekdays: tuple[int, ...] = ()
    hours: tuple[int, int] | None = None
    branches: tuple[str, ...] = ()
    per_member: int = 1
    #: what one redemption costs the shop (THB), for ROI
    cost: Decimal = Decimal(0)

    def own_title(self, locale: str) -> str:
        """The title the owner typed for ``locale``; empty when they kept the default one
        (``wording.offers.offer_title`` words that from the kind and value)."""
        return self.title_th if locale == "th" else self.title_en

    def conditions(self) -> dict[str, Any] | None:
        """``Coupon.conditions``: weekdays and ``[from, to)`` hours in shop time, or None."""
        if not self.weekdays and self.hours is None:
            return None
        out: dict[str, Any] = {}
        if self.weekdays:
            out["weekdays"] = list(self.weekdays)
        if self.hours is not None:
            out["hours"] = list(self.hours)
        return out

    def ended_by(self, moment: datetime, tz: ZoneInfo) -> bool:
        """Whether the last valid day (shop time) is over at ``moment``: nobody could use the
        offer any more. An open-ended offer never ends."""
        return self.valid_until is not None and moment.astimezone(tz).date() > self.valid_until

    def expires_at(self, now: datetime, tz: ZoneInfo) -> datetime:
        """The end (shop time) of the last valid day; ``DEFAULT_VALID_DAYS`` when open-ended."""
        last = self.valid_until or (now.astimezone(tz).date() + timedelta(DEFAULT_VALID_DAYS))
        return datetime.combine(last + timedelta(days=1), time(), tzinfo=tz)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "value": self.value,
            "title_th": self.title_th,
            "title_en": self.title_en,
            "valid_from": self.valid_from.isoformat() if self.valid_from else None,
            "valid_until": self.valid_until.isoformat() if self.valid_until else None,
            "weekdays": list(self.weekdays),
            "hours": list(self.hours) if self.hours else None,
            "branches": list(self.branches),
            "per_member": self.per_member,
            "cost": str(self.cost),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Offer:
        hours = data.get("hours")
        return cls(
            kind=str(data["kind"]),
            value=str(data.get("value", "")),
            title_th=str(data.get("title_th") or ""),
            title_en=str(data.get("title_en") or ""),
            valid_from=date.fromisoformat(data["valid_from"]) if data.get("valid_from") else None,
            valid_until=(
                date.fromisoformat(data["valid_until"]) if data.get("valid_until") else None
            ),
            weekdays=tuple(int(d) for d in data.get("weekdays") or ()),
            hours=(int(hours[0]), int(hours[1])) if hours else None,
            branches=tuple(str(b) for b in data.get("branches") or ()),
            per_member=int(data.get("per_member", 1)),
            cost=Decimal(str(data.get("cost", "0"))),
        )


def parse_value(kind: str, text: str) -> str:
    """The stored value of a typed one for ``kind``; raises :class:`OfferError`."""
    raw = thai_digits_to_ascii(text).strip()
    if kind not in KINDS:
        raise OfferError("campaign.offer_kind_unknown", word=kind)
    if kind == "free_item":
        if not raw or len(raw) > MAX_TITLE_LENGTH:
            raise OfferError("campaign.offer_value_free_item")
        return raw
    if kind == "buy_x_get_y":
        match = _BUY_GET.match(raw)
        if not match or int(match[1]) < 1 or int(match[2]) < 1:
            raise OfferError("campaign.offer_value_buy_x_get_y")
        return f"{int(match[1])}-{int(match[2])}"
    if kind == "baht":  # money as every amount is typed: satang at most
        amount = typed_baht(raw)
        if amount is None or not Decimal(0) < amount <= MAX_OFFER_BAHT:
            raise OfferError("campaign.offer_value_baht")
        return f"{amount.normalize():f}"
    # a count as every number is typed: 1,000 is a thousand, 1,5 no count at all
    plain = ungrouped(raw.removesuffix("%").strip())
    number = Decimal(plain) if plain is not None else None
    if number is None or number != number.to_integral():
        raise OfferError(f"campaign.offer_value_{kind}")
    if kind == "percent" and not 1 <= number <= 100:
        raise OfferError("campaign.offer_value_percent")
    if kind == "bonus_points" and not 1 <= number <= 100000:
        raise OfferError("campaign.offer_value_bonus_points")
    return str(int(number))


def parse_day(text: str) -> date:
    """``DD/MM/YYYY`` with a Buddhist Era or Common Era year (Thai digits too)."""
    match = _DATE.match(thai_digits_to_ascii(text).strip())
    if not match:
        raise OfferError("campaign.offer_dates_invalid")
    day, month, year = int(match[1]), int(match[2]), int(match[3])
    if year > 2400:
        year -= 543
    try:
        return date(year, month, day)
    except ValueError:
        raise OfferError("campaign.offer_dates_invalid") from None


def parse_dates(text: str, today: date) -> tuple[date, date]:
    """``DD/MM/YYYY - DD/MM/YYYY`` (or a number of days from today): the valid dates."""
    raw = as_typed_ascii(text).strip()
    # isascii: isdigit alone passes digits int() refuses; past 3 digits no count of days fits
    if raw.isascii() and raw.isdigit():
        days = int(raw) if len(raw) <= 3 else 0
        if not 1 <= days <= 366:
            raise OfferError("campaign.offer_dates_invalid")
        return today, today + timedelta(days=days - 1)
    first, sep, last = raw.partition(" - ") if " - " in raw else raw.partition("-")
    if not sep:
        raise OfferError("campaign.offer_dates_invalid")
    start, end = parse_day(first), parse_day(last)
    if end < start or end < today:
        raise OfferError("campaign.offer_dates_order")
    return start, end


def parse_window(text: str) -> tuple[tuple[int, ...], tuple[int, int] | None]:
    """``mon-fri 14:00-16:00``, ``จ.-ศ. 14:00 - 16:00``, ``sat,sun``, ``14-16``: weekdays
    (Mon=0) and ``[from, to)`` whole hours in shop time; empty weekdays means every day. Hours
    are read as every hour range is (:data:`shop.inputs.HOUR_RANGE`, as the quiet hours), days
    with or without the period Thai abbreviations carry (``จ.`` as on every shop sign)."""
    raw = thai_digits_to_ascii(text).strip().casefold()
    hours, days = _window_hours(raw)
    weekdays: set[int] = set()
    for word in days.replace(",", " ").split():
        if word[0].isdigit():  # a second range, or hours that are no range
            raise OfferError("campaign.offer_window_invalid", word=word)
        first, _, last = word.replace(".", "").partition("-")
        if first not in WEEKDAY_WORDS or (last and last not in WEEKDAY_WORDS):
            raise OfferError("campaign.offer_window_invalid", word=word)
        a = WEEKDAY_WORDS[first]
        b = WEEKDAY_WORDS[last] if last else a
        span = range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)]
        weekdays.update(span)
    if not weekdays and hours is None:
        raise OfferError("campaign.offer_window_invalid", word=text.strip())
    return tuple(sorted(weekdays)) if len(weekdays) < 7 else (), hours


def _window_hours(raw: str) -> tuple[tuple[int, int] | None, str]:
    """(the whole hours of the window's one hour range or None, the rest: its days)."""
    found = list(HOUR_RANGE.finditer(raw))
    if not found:
        return None, raw
    if len(found) > 1:
        raise OfferError("campaign.offer_window_invalid", word=found[1][0])
    match = found[0]
    (start, start_minute), (end, end_minute) = clock_range(match)
    if start_minute or end_minute or not 0 <= start < end <= 24:
        raise OfferError("campaign.offer_window_invalid", word=match[0])
    return (start, end), f"{raw[: match.start()]} {raw[match.end() :]}"


def parse_cost(text: str) -> Decimal:
    """What one redemption costs the shop: 0 to :data:`MAX_OFFER_BAHT` baht, read as every
    amount of money is (:func:`shop.inputs.typed_baht`): ``0.0000001`` is refused, not kept
    as ฿0."""
    cost = typed_baht(text)
    if cost is None or cost > MAX_OFFER_BAHT:
        raise OfferError("campaign.offer_cost_invalid")
    return cost
