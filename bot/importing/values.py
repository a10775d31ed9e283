"""Cell values of imported files: amounts, points, dates and times, gender, tags, categories.

Each parser returns a clean value or raises :class:`CellError` with a reason written for the
shop owner reading the error report. Phones, birthdays and names go through the same parsers
as chat input (:mod:`shop.inputs`), so an imported member looks like a signed-up one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Final, Generic, TypeVar
from zoneinfo import ZoneInfo

from bot.core.errors import InvalidInput
from bot.core.spreadsheet import unguarded
from bot.core.typed import misplaced_comma, without_zero_width
from bot.importing.csvfile import CsvRecord
from shop.inputs import (
    clean_name,
    common_era_year,
    parse_birthday,
    parse_phone,
    thai_digits_to_ascii,
    visible_text,
)
from storage.branch_names import BranchNames, SharedBranchName, UnknownBranch

MAX_TAG_LENGTH: Final = 40
MAX_CATEGORIES_LENGTH: Final = 200
#: distinct cell texts a :class:`Remembered` parser keeps (a few MB at most)
REMEMBERED_CELLS: Final = 100_000
_MONEY_NOISE: Final = re.compile(r"[\s฿]|thb|บาท", re.IGNORECASE)
_LIST_SEPARATORS: Final = re.compile(r"[,;|]")
_DAY_FIRST: Final = re.compile(
    r"([0-9]{1,2})[/.\-]([0-9]{1,2})[/.\-]([0-9]+)"
    r"(?:[ T,]+([0-9]{1,2})[:.]([0-9]{2})(?:[:.]([0-9]{2}))?\s*([ap]\.?m\.?)?)?",
    re.IGNORECASE,
)
_GENDERS: Final = {
    "female": "female", "f": "female", "woman": "female", "หญิง": "female", "ญ": "female",
    "male": "male", "m": "male", "man": "male", "ชาย": "male", "ช": "male",
    "other": "other", "อื่นๆ": "other", "อื่น ๆ": "other", "อื่น": "other",
}  # fmt: skip


T = TypeVar("T")


class CellError(Exception):
    """A cell that cannot be used; ``reason`` is shown in the error report."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def phone(text: str) -> str:
    """A Thai phone in any form chat accepts (``'+66…`` as an export writes it too), or one
    whose leading 0 a spreadsheet dropped."""
    text = unguarded(text)
    try:
        return parse_phone(text)
    except InvalidInput:
        pass
    if (found := dropped_zero_phone(text)) is None:
        raise CellError("not a Thai phone number")
    return found


def dropped_zero_phone(text: str) -> str | None:
    """The phone a spreadsheet turned into a number, losing its leading 0: a mobile
    (``812345678``) or a landline (``21234567``), the digits alone; None for anything else.

    Files only: Excel drops the 0 of a phone column it took for numbers, so such a cell can
    only be that phone; a person typing in chat writes the 0, and chat keeps refusing these.
    """
    digits = thai_digits_to_ascii(text).strip()
    if not (digits.isascii() and digits.isdigit() and len(digits) in (8, 9)):
        return None
    try:
        return parse_phone("0" + digits)  # the prefix and length rules are chat's
    except InvalidInput:
        return None


def name(text: str) -> str:
    try:
        return clean_name(unguarded(text))
    except InvalidInput:
        raise CellError("name is empty") from None


def birthday(text: str, today: date) -> date:
    try:
        return parse_birthday(text, today)
    except InvalidInput as error:
        if error.key == "input.birthday_future":
            raise CellError("birthday is in the future") from None
        raise CellError("not a valid birthday (day/month/year, BE or CE, or YYYY-MM-DD)") from None


def amount(text: str) -> Decimal:
    """A positive amount of baht with at most two decimals (``1,250.00``, ``฿95``)."""
    cleaned = _plain_number(text)
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise CellError("not an amount of baht") from None
    if not value.is_finite() or value <= 0:
        raise CellError("amount must be more than 0")
    # the size first: quantizing more digits than the decimal context holds raises
    if value >= Decimal(10) ** 9:
        raise CellError("amount is implausibly large")
    if value != value.quantize(Decimal("0.01")):
        raise CellError("amount has more than two decimals")
    return value.quantize(Decimal("0.01"))


def points(text: str) -> int:
    """A whole, non-negative number of points (``1,200`` and ``1200.0`` are fine)."""
    cleaned = _plain_number(text)
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise CellError("not a number of points") from None
    if not value.is_finite() or value != value.to_integral_value():
        raise CellError("points must be a whole number")
    if value < 0:
        raise CellError("points cannot be negative")
    if value > 10**9:
        raise CellError("points are implausibly large")
    return int(value)


def _plain_number(text: str) -> str:
    """The text without currency signs, units and separators, Thai digits made ASCII. A comma
    separates thousands only, as at the counter (:data:`bot.core.typed.GROUPED_NUMBER`):
    ``12,50`` from a decimal-comma sheet is reported, never imported as 1,250."""
    if text.isascii() and text.replace(".", "", 1).isdigit():
        return text  # the common case (``1250``, ``95.50``) has nothing to remove
    plain = _MONEY_NOISE.sub("", thai_digits_to_ascii(text))
    if misplaced_comma(plain):
        raise CellError("a comma separates thousands only (1,250.50): write decimals with a point")
    return plain.replace(",", "")


def gender(text: str) -> str:
    found = _GENDERS.get(text.strip().casefold())
    if found is None:
        raise CellError("gender must be female, male or other (หญิง, ชาย, อื่นๆ)")
    return found


def tags(text: str) -> tuple[str, ...]:
    """Distinct tags in file order, separated by ``,``, ``;`` or ``|``; cleaned of control
    characters as names are (:func:`shop.inputs.visible_text`) and of zero-width ones as the
    chat's /tag is (a tag is what staff see)."""
    found: list[str] = []
    for part in _LIST_SEPARATORS.split(without_zero_width(visible_text(unguarded(text)))):
        tag = " ".join(part.split())
        if len(tag) > MAX_TAG_LENGTH:
            raise CellError(f"tag longer than {MAX_TAG_LENGTH} characters: {tag[:20]}…")
        if tag and tag not in found:
            found.append(tag)
    return tuple(found)


def categories(text: str) -> str | None:
    joined = ",".join(tag.casefold() for tag in tags(text))
    if len(joined) > MAX_CATEGORIES_LENGTH:
        raise CellError(f"categories longer than {MAX_CATEGORIES_LENGTH} characters")
    return joined or None


def moment(text: str, tz: ZoneInfo, now: datetime) -> datetime:
    """A date and time in shop time (or with its own offset), as aware UTC.

    ISO 8601 (``2026-03-02 14:05``, ``2026-03-02T14:05:00+07:00``, ``2026-03-02``) or day-first
    (``02/03/2569 14:05``, ``2/3/2026 2:05 PM``) with a Buddhist or Common Era year. A date
    alone is midnight. Two-digit years are refused: ``26`` could be 1926, 2026 or BE 2526.
    """
    cleaned = " ".join(thai_digits_to_ascii(text).split())
    found: datetime | None = None
    try:
        found = datetime.fromisoformat(_iso_in_common_era(cleaned))
    except ValueError:
        found = _day_first(cleaned)
    if found.tzinfo is None:
        found = found.replace(tzinfo=tz)
    found = found.astimezone(UTC)
    if found > now:
        raise CellError("date is in the future")
    return found


def _iso_in_common_era(text: str) -> str:
    """An ISO text with its year in the Common Era, before anything checks the date: a BE
    year taken as CE would refuse 29 February of BE 2567 (2024)."""
    year = text[:4]
    if not (year.isascii() and year.isdigit()):
        return text
    return f"{common_era_year(int(year)):04d}{text[4:]}"


def _day_first(text: str) -> datetime:
    match = _DAY_FIRST.fullmatch(text)
    if match is None:
        raise CellError("not a date and time (DD/MM/YYYY HH:MM or YYYY-MM-DD HH:MM)")
    day, month, year, hour, minute, second, meridiem = match.groups()
    if len(year) != 4:
        raise CellError("write the year with four digits (BE or CE)")
    full_year = common_era_year(int(year))
    clock_hour = int(hour or 0)
    if meridiem:
        if not 1 <= clock_hour <= 12:
            raise CellError("not a time of day")
        clock_hour = clock_hour % 12 + (12 if meridiem.lower().startswith("p") else 0)
    try:
        return datetime.combine(
            date(full_year, int(month), int(day)),
            time(clock_hour, int(minute or 0), int(second or 0)),
        )
    except ValueError:
        raise CellError("no such date or time") from None


class Remembered(Generic[T]):
    """A cell parser that remembers what it made of each text it accepted.

    Files repeat most of their cells (first-visit dates, birthdays, prices, the customers of
    a sales file), and a look-up costs a small part of parsing. The parser must give the same
    value for the same text during one import (they depend on nothing but the import's clock
    and time zone) and its values must be immutable. Bad cells are parsed again each time
    (their error is reported per row); at most ``limit`` texts are remembered.
    """

    __slots__ = ("_known", "_limit", "_parse")

    def __init__(self, parse: Callable[[str], T], limit: int = REMEMBERED_CELLS) -> None:
        self._parse = parse
        self._limit = limit
        self._known: dict[str, T] = {}

    def __call__(self, text: str) -> T:
        known = self._known
        if text in known:
            return known[text]
        value = self._parse(text)  # a CellError leaves nothing behind
        if len(known) < self._limit:
            known[text] = value
        return value


def branch_shared(shared: SharedBranchName) -> str:
    """What is said of a branch name two or more branches share."""
    codes = ", ".join(shared.codes)
    return f"{len(shared.codes)} branches are called that ({codes}): write its code"


def branch_of(branches: BranchNames) -> Remembered[int]:
    """A cell parser of a branch, written as its code or name (a code names its branch only;
    :mod:`storage.branch_names`): the branch's id, or :class:`CellError` for an unknown one or
    a name two branches share."""

    def parse(text: str) -> int:
        try:
            return branches.id_of(text)
        except SharedBranchName as shared:
            raise CellError(branch_shared(shared)) from None
        except UnknownBranch:
            raise CellError("unknown branch (write its code or name)") from None

    return Remembered(parse)  # a file repeats a handful of branch cells


def cell(
    record: CsvRecord,
    field: str,
    parse: Callable[[str], T],
    problems: list[tuple[str, str, str]],
) -> T | None:
    """The parsed cell, None when empty; a bad cell is added to ``problems``."""
    raw = record.values.get(field, "")
    if not raw:
        return None
    try:
        return parse(raw)
    except CellError as error:
        problems.append((field, raw, error.reason))
        return None
