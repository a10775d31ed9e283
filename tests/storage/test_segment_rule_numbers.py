"""A segment rule with an amount of money too big for the shop's money type, typed in the chat
(``/segment new``) and in the console's live count (over HTTP). The rule language refuses a
number it cannot use with the chat's words ("… is not a usable number"), as it does for a
count; an amount must be refused the same way, never answered as a fault of the shop's
system."""

from __future__ import annotations

import pytest

from bot.bootstrap import App
from bot.i18n import t
from tests.unit.admin_support import console_client, signed_in
from tests.unit.staff_support import staff_chat

TOO_BIG = [
    "spend >= 1e30",
    "spend_90d > 99999999999999999999999999999",
    # within Decimal's 28 digits, past the 64-bit whole satang the money columns hold
    "avg_ticket > 100000000000000000000",
]


async def test_a_count_too_big_is_refused_with_the_chats_words(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    await owner.say("/segment new many visits >= " + "9" * 30)
    assert "not a usable number" in owner.text()


@pytest.mark.parametrize("rule", TOO_BIG)
async def test_an_amount_too_big_is_refused_in_the_chat(app: App, rule: str) -> None:
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    await owner.say(f"/segment new big {rule}")
    assert owner.text() != t("en", "error.internal")
    assert "not a usable number" in owner.text()


@pytest.mark.parametrize("rule", TOO_BIG)
async def test_an_amount_too_big_is_refused_in_the_consoles_count(app: App, rule: str) -> None:
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    async with console_client(app) as client:
        browser = await signed_in(client, owner)
        answer = await browser.post("/admin/members/count", {"rule": rule})
        assert answer.status == 400
        assert "not a usable number" in (await answer.json())["error"]
