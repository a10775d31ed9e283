"""English counts take their plural form everywhere ("1 point", "2 points"), also where one
text holds several counts; Thai, with one form, reads the same for any count."""

from __future__ import annotations

import pytest

from bot.bootstrap import App
from bot.i18n import t
from tests.unit.sales_support import queued, sales, texts
from tests.unit.staff_support import ensure_branches, make_member, staff_chat


@pytest.mark.parametrize(
    ("count", "shown"), [(1, "+1 point · balance 1 point"), (2, "+2 points · balance 2 points")]
)
def test_each_count_of_a_text_takes_its_own_form(count: int, shown: str) -> None:
    params = {"branch": "A", "amount": "฿1", "receipt": "R"}
    assert shown in t("en", "sale.receipt", points=count, balance=count, **params)


def test_a_count_already_written_keeps_its_sign_and_separators() -> None:
    assert "+1 point (" in t("en", "adjust.done", member="M", points="+1", before=0, balance=1)
    assert "balance 1,234 points" in t(
        "en", "sale.receipt", branch="A", amount="฿1", points=1, balance="1,234", receipt="R"
    )


def test_thai_has_one_form() -> None:
    one = t("th", "rewards.title", points=1)
    assert one == t("th", "rewards.title", points=2).replace("2", "1")


async def test_a_one_point_sale_reads_one_point_to_the_cashier_and_the_member(app: App) -> None:
    await ensure_branches(app, ("asoke",))
    cashier = await staff_chat(app, "c1", "cashier", "asoke", language_code="en")
    anna = await make_member(app, "Anna", user_id="m1", locale="en")
    await cashier.say(f"/sale {anna.member_code} 25 receipt=R1")
    assert "+1 point, balance 1." in cashier.text()
    [sale] = await sales(app)
    [row] = await queued(app, f"receipt:{sale.id}")
    assert "+1 point · balance 1 point" in texts(row)
    await cashier.say(f"/sale {anna.member_code} 25 receipt=R1")
    assert "+1 point." in cashier.text()  # the duplicate's answer
