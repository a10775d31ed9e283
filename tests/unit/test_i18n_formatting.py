"""Numbers, money and counts through babel: thousands separators everywhere a count or an amount
is shown, and the plural form each language needs."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.bootstrap import App
from bot.i18n import LOCALES, catalog, format_baht, format_number, t, tn
from tests.unit.staff_support import member_chat


@pytest.mark.parametrize("locale", LOCALES)
def test_counts_have_thousands_separators(locale: str) -> None:
    assert format_number(1234567, locale) == "1,234,567"
    assert t(locale, "points.balance", points=12345).count("12,345") == 1


def test_identifiers_and_hours_are_written_as_they_are() -> None:
    assert "1234" in t("en", "campaign.confirm_send", id=1234, name="x")
    assert "#1,234" not in t("en", "campaign.confirm_send", id=1234, name="x")


def test_money_keeps_satang_only_when_there_are_some() -> None:
    assert format_baht(Decimal("12500"), "th") == "12,500 บาท"
    assert format_baht(Decimal("12500.5"), "en") == "฿12,500.50"
    assert format_baht(Decimal("0.00"), "en") == "฿0"


def test_english_counts_take_the_singular_for_one_and_thai_one_form() -> None:
    assert tn("en", "campaign.preview_reach", 1) == "Will be sent to: 1 member"
    assert tn("en", "campaign.preview_reach", 2) == "Will be sent to: 2 members"
    assert tn("en", "campaign.preview_reach", 1500) == "Will be sent to: 1,500 members"
    assert tn("th", "campaign.preview_reach", 1) == tn("th", "campaign.preview_reach", 2).replace(
        "2", "1"
    )


@pytest.mark.parametrize("locale", LOCALES)
def test_every_plural_table_has_the_other_form(locale: str) -> None:
    forms = {key.rsplit(".", 1)[0] for key in catalog(locale) if key.endswith(".one")}
    assert sorted(f"{key}.other" for key in forms if f"{key}.other" not in catalog(locale)) == []


async def test_a_big_balance_is_shown_grouped_on_the_card(app: App) -> None:
    chat, _ = await member_chat(app, "Ploy", locale="en", points=12345)
    assert "12,345" in (await chat.say("/card"))[0].text
    assert "12,345" in (await chat.say("/points"))[0].text
