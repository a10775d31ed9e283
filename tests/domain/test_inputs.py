"""Thai input parsing: phone numbers, birthdays and names, in every form people type them."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import date, timedelta
from typing import TypeVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.errors import InvalidInput
from shop.inputs import (
    MAX_NAME_LENGTH,
    clean_name,
    parse_birthday,
    parse_phone,
    thai_digits_to_ascii,
)

T = TypeVar("T")
TODAY = date(2026, 3, 3)
THAI = "๐๑๒๓๔๕๖๗๘๙"


def _thai(text: str) -> str:
    return "".join(THAI[int(ch)] if ch.isascii() and ch.isdigit() else ch for ch in text)


def _refused(key: str) -> AbstractContextManager[pytest.ExceptionInfo[InvalidInput]]:
    return pytest.raises(InvalidInput, match=rf"^\('{key}'")


def _attempt(parse: Callable[[str], T], text: str) -> T | InvalidInput:
    """The parsed value, or the refusal itself (for properties that allow either)."""
    try:
        return parse(text)
    except InvalidInput as error:
        return error


# --- digits -------------------------------------------------------------------------------


def test_thai_digits_map_to_ascii_keeping_leading_zero() -> None:
    assert thai_digits_to_ascii("๐๘๑-๒๓๔") == "081-234"


def test_thai_digits_leave_other_characters_alone() -> None:
    assert thai_digits_to_ascii("ห้อง ๙ A1") == "ห้อง 9 A1"


# --- phones -------------------------------------------------------------------------------

MOBILE_FORMS = [
    "081-234-5678",
    "0812345678",
    "+66812345678",
    "+66 81 234 5678",
    "66812345678",
    "(081) 234 5678",
    "081.234.5678",
    "  081 234 5678  ",
    "+66 0812345678",
    "+66 (0) 81 234 5678",
    "081–234–5678",  # en dashes from a phone keyboard's auto-correct
    "＋６６８１２３４５６７８",  # full-width, from a CJK keyboard
]


@pytest.mark.parametrize("text", MOBILE_FORMS)
def test_common_mobile_forms_give_one_e164_number(text: str) -> None:
    assert parse_phone(text) == "+66812345678"


@pytest.mark.parametrize("text", MOBILE_FORMS)
def test_mobile_forms_in_thai_digits_give_the_same_number(text: str) -> None:
    assert parse_phone(_thai(text)) == "+66812345678"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("0612345678", "+66612345678"), ("0991234567", "+66991234567")],
)
def test_mobile_prefixes_06_and_09_are_accepted(text: str, expected: str) -> None:
    assert parse_phone(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("02-123-4567", "+6621234567"),
        ("053 123 456", "+6653123456"),
        ("+66 2 123 4567", "+6621234567"),
    ],
)
def test_landlines_are_accepted(text: str, expected: str) -> None:
    assert parse_phone(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "12345",
        "08123456789",  # 11 digits
        "081234567",  # 9 digits starting 08: a mobile missing a digit
        "0112345678",  # no such prefix
        "0612345",
        "081-234-567a",
        "phone",
        "",
        "   ",
        "+1 415 555 0100",  # foreign: the shop only takes Thai numbers
        "+44 20 7946 0958",
        "812345678",  # no trunk 0 and no country code
        "+66",
        "+66 81 234 56789",
        "0+812345678",
        "++66812345678",
        "081\n234\x005678",
        "٠٨١٢٣٤٥٦٧٨",  # Arabic-Indic digits: int() would take them, we do not
        "0" * 10_000,
    ],
)
def test_non_thai_or_malformed_numbers_are_refused(text: str) -> None:
    with _refused("input.phone_invalid"):
        parse_phone(text)


_SEPARATOR = st.sampled_from(["", "", " ", "-", ".", " - "])


@given(
    prefix=st.sampled_from("689"),
    rest=st.text(alphabet="0123456789", min_size=8, max_size=8),
    lead=st.sampled_from(["0", "+66", "66", "+660", "+66 0", "+66 (0)"]),
    separators=st.lists(_SEPARATOR, min_size=9, max_size=9),
    thai=st.booleans(),
)
def test_any_mobile_with_random_separators_round_trips(
    prefix: str, rest: str, lead: str, separators: list[str], thai: bool
) -> None:
    subscriber = prefix + rest
    written = lead + "".join(sep + digit for sep, digit in zip(separators, subscriber, strict=True))
    if thai:
        written = _thai(written)
    assert parse_phone(written) == f"+66{subscriber}"


@pytest.mark.e2e
@given(st.text(max_size=40))
def test_any_text_is_a_number_or_a_polite_refusal(text: str) -> None:
    result = _attempt(parse_phone, text)
    if isinstance(result, InvalidInput):
        assert result.key == "input.phone_invalid"
    else:
        assert result.startswith("+66")
        assert result[1:].isascii()
        assert result[1:].isdigit()


# --- birthdays ----------------------------------------------------------------------------

BIRTHDAY_FORMS = [
    "01/05/2530",
    "1/5/1987",
    "1-5-1987",
    "01.05.2530",
    "๐๑/๐๕/๒๕๓๐",
    "1987-05-01",
    " 1 / 5 / 2530 ",
    "1 พ.ค. 2530",
    "1 พค 2530",
    "1 พฤษภาคม 2530",
    "1 พฤษภาคม พ.ศ. 2530",
    "๑ พ.ค. ๒๕๓๐",
    "1พ.ค.2530",
    "1 May 1987",
    "1 may 1987",
    "01 MAY, 1987",
]


@pytest.mark.parametrize("text", BIRTHDAY_FORMS)
def test_common_birthday_forms_give_the_same_date(text: str) -> None:
    assert parse_birthday(text, TODAY) == date(1987, 5, 1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("12 ธ.ค. 2540", date(1997, 12, 12)), ("3 Sep 1999", date(1999, 9, 3))],
)
def test_month_abbreviations_from_both_languages_are_known(text: str, expected: date) -> None:
    assert parse_birthday(text, TODAY) == expected


@pytest.mark.parametrize(
    "text",
    [
        "31/02/2530",
        "29/02/1987",  # 1987 (2530) is not a leap year
        "00/05/1987",
        "01/13/1987",
        "01/00/1987",
        "32/01/1987",
        "1/5/30",  # two-digit year: 1930, 2030 or 2530?
        "1/5/87",
        "1/5/987",
        "1/5/19870",
        "1/5-1987",  # mixed separators
        "1987/05",
        "birthday",
        "",
        "1 Maytember 1987",
        "01/05/1900",  # more than 120 years ago
        "1" * 10_000,
    ],
)
def test_impossible_or_unreadable_birthdays_are_refused(text: str) -> None:
    with _refused("input.birthday_invalid"):
        parse_birthday(text, TODAY)


@pytest.mark.parametrize("text", ["04/03/2026", "01/01/2600", "1/5/2100", "04/03/2569"])
def test_future_birthdays_are_refused_with_their_own_key(text: str) -> None:
    with _refused("input.birthday_future"):
        parse_birthday(text, TODAY)


def test_leap_day_is_checked_after_converting_the_buddhist_year() -> None:
    assert parse_birthday("29/02/2531", TODAY) == date(1988, 2, 29)


def test_born_today_is_not_in_the_future() -> None:
    assert parse_birthday("03/03/2569", TODAY) == TODAY


def test_exactly_120_years_old_is_accepted() -> None:
    assert parse_birthday("3/3/1906", TODAY) == date(1906, 3, 3)


def test_one_day_older_than_120_years_is_refused() -> None:
    with _refused("input.birthday_invalid"):
        parse_birthday("2/3/1906", TODAY)


def test_age_limit_works_when_today_is_29_february() -> None:
    # 120 years before 29 Feb 2020 has no 29 Feb (1900 was not a leap year): 28 Feb counts.
    assert parse_birthday("28/02/1900", date(2020, 2, 29)) == date(1900, 2, 28)


@given(
    born=st.dates(min_value=date(1906, 3, 3), max_value=TODAY),
    separator=st.sampled_from(["/", "-", "."]),
    pad=st.booleans(),
    buddhist=st.booleans(),
    thai=st.booleans(),
)
def test_any_valid_date_written_day_first_parses_back(
    born: date, separator: str, pad: bool, buddhist: bool, thai: bool
) -> None:
    width = 2 if pad else 1
    year = born.year + 543 if buddhist else born.year
    written = separator.join([f"{born.day:0{width}}", f"{born.month:0{width}}", str(year)])
    if thai:
        written = _thai(written)
    assert parse_birthday(written, TODAY) == born


@given(st.dates(min_value=TODAY + timedelta(days=1), max_value=date(2400, 1, 1)))
def test_any_date_after_today_is_refused_as_future(later: date) -> None:
    with _refused("input.birthday_future"):
        parse_birthday(f"{later.day}/{later.month}/{later.year + 543}", TODAY)


@given(st.text(max_size=40))
def test_any_text_is_a_birthday_or_a_polite_refusal(text: str) -> None:
    born = _attempt(lambda written: parse_birthday(written, TODAY), text)
    if isinstance(born, InvalidInput):
        assert born.key in {"input.birthday_invalid", "input.birthday_future"}
    else:
        assert born <= TODAY


# --- names --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  Somchai  ", "Somchai"),
        ("สมชาย   ใจดี", "สมชาย ใจดี"),
        ("Mali\n\tJaidee", "Mali Jaidee"),
        ('<b>&"x"</b>', '<b>&"x"</b>'),
        ("สม\u200bชาย", "สม\u200bชาย"),  # zero-width space between Thai words stays
        ("👨\u200d👩\u200d👧", "👨\u200d👩\u200d👧"),  # family emoji keeps its joiners
        ("\u200bมะลิ\u200b", "มะลิ"),  # zero-width at the ends means nothing
        ("Nok\x00\x07\x7f\x9b", "Nok"),
        ("A \x00 B", "A B"),
        ("Cafe\u0301", "Café"),  # NFC: one code point for é
        ("Bee\ud83d", "Bee"),  # a lone surrogate cannot be stored as UTF-8
    ],
)
def test_names_are_kept_as_written_but_cleaned(text: str, expected: str) -> None:
    assert clean_name(text) == expected


@pytest.mark.parametrize("text", ["", "   ", "\n\t", "\u200b\u200d", "\x00\x01", "\u200b \u200b"])
def test_names_with_nothing_visible_are_refused(text: str) -> None:
    with _refused("input.name_invalid"):
        clean_name(text)


def test_very_long_name_is_capped() -> None:
    assert clean_name("ก" * 10_000) == "ก" * MAX_NAME_LENGTH


def test_cap_does_not_leave_a_dangling_joiner() -> None:
    name = "a" * (MAX_NAME_LENGTH - 2) + "👨\u200d👩"
    assert clean_name(name) == "a" * (MAX_NAME_LENGTH - 2) + "👨"


def test_cap_does_not_leave_a_trailing_space() -> None:
    assert clean_name("a" * (MAX_NAME_LENGTH - 1) + " b") == "a" * (MAX_NAME_LENGTH - 1)


_NAME_TEXT = st.text(
    alphabet=st.one_of(
        st.characters(),
        st.sampled_from(["\u200b", "\u200d", " ", "\n", "\x00", "\u0301", "\ud83d", "ก", "้"]),
    ),
    max_size=300,
)


@given(_NAME_TEXT)
def test_clean_name_never_exceeds_the_cap(text: str) -> None:
    name = _attempt(clean_name, text)
    if isinstance(name, InvalidInput):
        assert name.key == "input.name_invalid"
    else:
        assert len(name) <= MAX_NAME_LENGTH


@given(_NAME_TEXT)
def test_clean_name_is_idempotent(text: str) -> None:
    try:
        once = clean_name(text)
    except InvalidInput:
        return
    assert clean_name(once) == once


@given(_NAME_TEXT)
def test_clean_name_output_is_storable_and_trimmed(text: str) -> None:
    try:
        name = clean_name(text)
    except InvalidInput:
        return
    name.encode("utf-8")  # no lone surrogates
    assert unicodedata.is_normalized("NFC", name)
    assert not any(unicodedata.category(ch) == "Cc" for ch in name)
    assert name == name.strip()
    assert not name.endswith("\u200d")
