"""Phones a spreadsheet stripped of their leading 0 are read in import files only."""

from __future__ import annotations

import pytest

from bot.core.errors import InvalidInput
from bot.importing import values
from bot.importing.sales import customer_key
from shop.inputs import parse_phone


@pytest.mark.parametrize(
    ("cell", "phone"),
    [
        ("812345678", "+66812345678"),
        ("661234567", "+66661234567"),  # 066…, not the country code
        ("๘๑๒๓๔๕๖๗๘", "+66812345678"),
        ("21234567", "+6621234567"),
        ("53123456", "+6653123456"),
    ],
)
def test_an_import_reads_the_phone_excel_made_a_number_of(cell: str, phone: str) -> None:
    assert values.phone(cell) == phone


@pytest.mark.parametrize("cell", ["12345678", "112345678", "612345678.0", "8123456789", "81234567"])
def test_other_numbers_are_still_not_phones(cell: str) -> None:
    with pytest.raises(values.CellError):
        values.phone(cell)


def test_chat_still_wants_the_zero() -> None:
    with pytest.raises(InvalidInput):
        parse_phone("812345678")


def test_a_sales_customer_of_eight_code_digits_is_a_member_code() -> None:
    assert customer_key("23456789") == ("code", "23456789")
    assert customer_key("21034567") == ("phone", "+6621034567")  # 0 is no code character
    assert customer_key("812345678") == ("phone", "+66812345678")
