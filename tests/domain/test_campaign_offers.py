"""Offer values as owners type them: Thai digits, BE years, Thai weekday names."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from shop.campaigns.offers import (
    Offer,
    OfferError,
    parse_cost,
    parse_dates,
    parse_value,
    parse_window,
)
from wording.offers import default_title


def test_weekday_range_and_hours_become_coupon_conditions() -> None:
    assert parse_window("mon-fri 14:00-16:00") == ((0, 1, 2, 3, 4), (14, 16))
    assert parse_window("จ-ศ ๑๔-๑๖") == ((0, 1, 2, 3, 4), (14, 16))


@pytest.mark.parametrize(
    ("text", "window"),
    [
        ("จ.-ศ. 14:00 - 16:00", ((0, 1, 2, 3, 4), (14, 16))),
        ("ส.,อา.", ((5, 6), None)),
        ("mon-fri 14 ถึง 16", ((0, 1, 2, 3, 4), (14, 16))),
        ("14.00 – 16.00 sat", ((5,), (14, 16))),
    ],
)
def test_days_with_their_period_and_a_spaced_hour_range_are_read(
    text: str, window: tuple[tuple[int, ...], tuple[int, int] | None]
) -> None:
    assert parse_window(text) == window


def test_weekend_without_hours_is_any_time_on_those_days() -> None:
    assert parse_window("sat,sun") == ((5, 6), None)


@pytest.mark.parametrize(
    "text", ["someday", "14:30-16:00", "16-14", "mon-fri 14-16 9-10", "114-16", "14 - 16 - 18"]
)
def test_window_that_cannot_be_read_is_refused(text: str) -> None:
    with pytest.raises(OfferError):
        parse_window(text)


def test_dates_accept_buddhist_era_years() -> None:
    today = date(2024, 6, 1)
    assert parse_dates("03/06/2567-14/06/2567", today) == (date(2024, 6, 3), date(2024, 6, 14))


def test_a_number_of_days_counts_from_today() -> None:
    assert parse_dates("7", date(2024, 6, 1)) == (date(2024, 6, 1), date(2024, 6, 7))


@pytest.mark.parametrize("text", ["\u00b2x", "\u0663", "1" * 5000, "367", "0"])
def test_a_count_of_days_no_one_could_mean_is_refused(text: str) -> None:
    """A superscript or Arabic-Indic digit passes ``str.isdigit`` (``int("²x")`` fails), and
    5,000 digits pass it too (``int`` refuses past 4,300): each is the dates' own refusal."""
    with pytest.raises(OfferError):
        parse_dates(text, date(2024, 6, 1))


def test_a_count_typed_in_full_width_digits_is_that_count() -> None:
    assert parse_dates("\uff17", date(2024, 6, 1)) == (date(2024, 6, 1), date(2024, 6, 7))


def test_dates_in_the_past_are_refused() -> None:
    with pytest.raises(OfferError):
        parse_dates("01/01/2020-02/01/2020", date(2024, 6, 1))


@pytest.mark.parametrize(
    ("kind", "text"),
    [("percent", "120"), ("buy_x_get_y", "1"), ("baht", "-5"), ("bonus_points", "1.5")],
)
def test_out_of_range_values_are_refused(kind: str, text: str) -> None:
    with pytest.raises(OfferError):
        parse_value(kind, text)


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        ("baht", "nan"),
        ("baht", "sNaN"),
        ("baht", "0.001"),
        ("baht", "1e3"),
        ("percent", "nan"),
        ("bonus_points", "inf"),
    ],
)
def test_a_value_that_is_no_number_or_finer_than_a_satang_is_refused(kind: str, text: str) -> None:
    with pytest.raises(OfferError):
        parse_value(kind, text)


@pytest.mark.parametrize("text", ["0.0000001", "12.345", "nan", "-0", "1e3", "100000.01"])
def test_a_cost_finer_than_a_satang_or_no_amount_is_refused(text: str) -> None:
    with pytest.raises(OfferError):
        parse_cost(text)


def test_a_cost_is_read_as_every_amount_of_baht_is() -> None:
    assert parse_cost("12.50") == Decimal("12.50")
    assert parse_cost("฿1,250") == Decimal("1250.00")
    assert parse_cost("๔๐ บาท") == Decimal("40.00")
    assert parse_cost("0") == Decimal("0.00")


def test_generated_titles_in_both_languages() -> None:
    assert default_title("buy_x_get_y", parse_value("buy_x_get_y", "1-1"), "th") == "ซื้อ 1 แถม 1"
    assert default_title("percent", parse_value("percent", "20%"), "en") == "20% off"


def test_a_round_baht_amount_is_stored_as_typed_not_in_exponent_form() -> None:
    assert parse_value("baht", "50") == "50"
    assert parse_value("baht", "1,000") == "1000"
    assert parse_value("baht", "12.50") == "12.5"
    assert default_title("baht", parse_value("baht", "100"), "en") == "฿100 off"


def test_offer_survives_its_json_form() -> None:
    offer = Offer(
        "buy_x_get_y",
        "1-1",
        weekdays=(0, 1, 2, 3, 4),
        hours=(14, 16),
        valid_until=date(2024, 6, 14),
        branches=("asoke",),
    )
    assert Offer.from_json(offer.to_json()) == offer
    assert offer.conditions() == {"weekdays": [0, 1, 2, 3, 4], "hours": [14, 16]}
