"""The ASCII fast paths of the input parsers give what the general (Unicode) path gives.

Imports parse tens of thousands of cells, so :mod:`shop.inputs` skips normalisation for
ASCII text. These tests force the general path on the same text (a Thai digit for a digit, a
zero-width space in front of a name, both of which the parsers treat as no change) and require
the same answer or the same refusal.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.errors import InvalidInput
from shop.inputs import clean_name, parse_birthday, parse_phone

TODAY = date(2026, 3, 3)
THAI_DIGITS = "๐๑๒๓๔๕๖๗๘๙"
ASCII = st.text(st.characters(min_codepoint=0, max_codepoint=127), max_size=30)
PHONE_LIKE = st.text(st.sampled_from("0123456789+-. ()\t6"), max_size=16)
DATE_LIKE = st.text(st.sampled_from("0123456789-/. "), max_size=12)


def _outcome(parse: Callable[[str], object], text: str) -> object:
    try:
        return parse(text)
    except InvalidInput as error:
        return ("refused", error.key)


def _thai_digits(text: str) -> str:
    return "".join(THAI_DIGITS[int(ch)] if "0" <= ch <= "9" else ch for ch in text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0812345678", "+66812345678"),  # fast: national form
        ("+66812345678", "+66812345678"),  # fast: E.164
        ("081-234-5678", "+66812345678"),  # ASCII with separators
        ("๐๘๑๒๓๔๕๖๗๘", "+66812345678"),  # general: Thai digits
        ("０８１２３４５６７８", "+66812345678"),  # general: full-width digits
        ("021234567", "+6621234567"),  # landline
        ("+1 202 555 0100", ("refused", "input.phone_invalid")),
        ("08123456789", ("refused", "input.phone_invalid")),
        ("0812345678x", ("refused", "input.phone_invalid")),
        ("++66812345678", ("refused", "input.phone_invalid")),
    ],
)
def test_phone_forms_give_the_same_number(text: str, expected: object) -> None:
    assert _outcome(parse_phone, text) == expected


@given(PHONE_LIKE)
def test_phone_fast_path_agrees_with_the_general_path(text: str) -> None:
    assert _outcome(parse_phone, text) == _outcome(parse_phone, _thai_digits(text))


@given(DATE_LIKE)
def test_birthday_fast_path_agrees_with_the_general_path(text: str) -> None:
    def parse(value: str) -> object:
        return parse_birthday(value, TODAY)

    assert _outcome(parse, text) == _outcome(parse, _thai_digits(text))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1987-05-01", date(1987, 5, 1)),  # fast: ISO
        ("2530-05-01", date(1987, 5, 1)),  # fast: ISO with a Buddhist year
        ("1987-02-30", ("refused", "input.birthday_invalid")),
        ("2027-01-01", ("refused", "input.birthday_future")),
        ("87-05-01", ("refused", "input.birthday_invalid")),
        ("๑๙๘๗-๐๕-๐๑", date(1987, 5, 1)),
    ],
)
def test_iso_birthdays(text: str, expected: object) -> None:
    assert _outcome(lambda value: parse_birthday(value, TODAY), text) == expected


@given(ASCII)
def test_name_fast_path_agrees_with_the_general_path(text: str) -> None:
    # a leading zero-width space makes the text non-ASCII and is trimmed like a space
    assert _outcome(clean_name, text) == _outcome(clean_name, "\u200b" + text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  Somchai   Jaidee ", "Somchai Jaidee"),
        ("Ann\x00\x07 Lee", "Ann Lee"),  # controls dropped
        ("Ann\tLee\r\n", "Ann Lee"),  # whitespace controls become one space
        ("Ann\x7fLee", "AnnLee"),
        ("\x01\x02", ("refused", "input.name_invalid")),
        ("สมชาย\u0085ใจดี", "สมชาย ใจดี"),  # NEL is whitespace
        ("e\u0301", "é"),  # NFC
    ],
)
def test_names_are_cleaned_the_same_on_both_paths(text: str, expected: object) -> None:
    assert _outcome(clean_name, text) == expected
