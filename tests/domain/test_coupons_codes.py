"""Coupon codes: enough randomness, a readable form, forgiving input."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from shop.coupons import (
    CODE_ALPHABET,
    CODE_LENGTH,
    display_code,
    expiry_after,
    new_code,
    normalise_code,
)

BANGKOK = ZoneInfo("Asia/Bangkok")


def test_a_code_carries_at_least_64_bits_of_randomness() -> None:
    assert CODE_LENGTH * math.log2(len(set(CODE_ALPHABET))) >= 64
    code = new_code()
    assert len(code) == CODE_LENGTH
    assert set(code) <= set(CODE_ALPHABET)


def test_codes_do_not_repeat() -> None:
    assert len({new_code() for _ in range(2000)}) == 2000


def test_the_alphabet_has_no_letters_that_look_like_digits() -> None:
    assert not set("ILOU") & set(CODE_ALPHABET)


def test_a_code_is_shown_in_three_short_groups() -> None:
    assert display_code("ABCDEFGHJKMNP") == "ABCD-EFGH-JKMNP"


@pytest.mark.parametrize(
    "typed",
    [
        "ABCD-EFGH-JKMNP",
        "abcd efgh jkmnp",
        "  abcdefghjkmnp ",
        "CPN:ABCD-EFGH-JKMNP",
        "ABCD–EFGH–JKMNP",  # en dashes from a phone keyboard
        "ＡＢＣＤ－ＥＦＧＨ－ＪＫＭＮＰ",  # a phone keyboard's full-width mode
        "ｃｐｎ：ａｂｃｄ\u3000ｅｆｇｈ\u3000ｊｋｍｎｐ",  # the QR prefix and ideographic spaces
    ],
)
def test_typed_codes_are_normalised(typed: str) -> None:
    assert normalise_code(typed) == "ABCDEFGHJKMNP"


def test_confusable_letters_are_read_as_digits() -> None:
    assert normalise_code("O1LI-2345-6789A") == "011123456789A"


def test_thai_digits_are_read_as_digits() -> None:
    assert normalise_code("๐๑๒๓-๔๕๖๗-๘๙ABC") == "0123456789ABC"


@pytest.mark.parametrize("typed", ["", "ABCD", "ABCD-EFGH-JKMNPQ", "ABCD-EFGH-JKMNU", "ชาไทย"])
def test_what_cannot_be_a_code_is_none(typed: str) -> None:
    assert normalise_code(typed) is None


def test_a_coupon_lasts_to_the_end_of_its_last_shop_day() -> None:
    now = datetime(2026, 3, 3, 20, 0, tzinfo=UTC)  # 4 March 03:00 in Bangkok
    expires = expiry_after(now, 30, BANGKOK)
    assert expires == datetime(2026, 4, 4, 0, 0, tzinfo=BANGKOK)  # all of 3 April counts
