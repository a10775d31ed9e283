"""A cashier's ``/void`` of a sale whose points were spent since: a cashier with a second,
unlinked membership of their own could sell to it, spend the points on a reward and void the
sale within their 30 minutes — the points written off, the coupon still good: a free reward.
A cashier may void only a sale whose points are all still in the balance; a manager or the
owner may void it (the written-off points shown to them, as before)."""

from __future__ import annotations

import pytest

from bot.bootstrap import App
from bot.i18n import t
from tests.chat import Chat
from tests.unit.rewards_support import coupon_rows, make_reward
from tests.unit.sales_support import balance, ledger, sales
from tests.unit.staff_support import ensure_branches, make_member, staff_chat


async def _second_membership_spent(app: App, lang: str, points: int = 0) -> tuple[Chat, int]:
    """The Asoke cashier sells 250 THB (10 points) on receipt R1 to a membership of a chat
    account not linked to their staff account, which then spends 10 points on a free tea."""
    await ensure_branches(app, ("asoke",))
    cashier = await staff_chat(app, "c1", "cashier", "asoke", language_code=lang)
    own = await make_member(app, "Nok two", "089-111-2222", user_id="c1-second", points=points)
    await cashier.say(f"/sale {own.member_code} 250 receipt=R1")
    reward = await make_reward(app, cost=10)
    second = Chat(app, user_id="c1-second", language_code=lang)
    await second.say("/rewards")
    await second.press(f"rw:pick:{reward.id}")
    await second.press(f"rw:ok:{reward.id}")
    [coupon] = await coupon_rows(app)
    assert coupon.status == "issued"
    return cashier, own.id


@pytest.mark.parametrize("lang", ["th", "en"])
async def test_a_cashier_cannot_void_a_sale_whose_points_were_spent_on_a_reward(
    app: App, lang: str
) -> None:
    cashier, member_id = await _second_membership_spent(app, lang)
    await cashier.say("/void R1")
    assert cashier.text() == t(lang, "sale.void_points_spent")
    [sale] = await sales(app)
    assert sale.voided_at is None
    assert await ledger(app, member_id) == [(10, "sale"), (-10, "redeem")]
    [coupon] = await coupon_rows(app)
    assert coupon.status == "issued"


async def test_a_partly_spent_sale_is_refused_too(app: App) -> None:
    """4 points from before and the sale's 10: the 10-point tea spends the 4 first (first in,
    first out) and 6 of the sale's; what is left does not cover the sale."""
    cashier, member_id = await _second_membership_spent(app, "en", points=4)
    assert await balance(app, member_id) == 4
    await cashier.say("/void R1")
    assert cashier.text() == t("en", "sale.void_points_spent")
    assert (await sales(app))[0].voided_at is None


async def test_a_sale_whose_points_are_untouched_is_still_the_cashiers_to_void(app: App) -> None:
    """50 points from before paid for the tea (first in, first out): the sale's own 10 are all
    in the balance, and the cashier voids it within their window as always."""
    cashier, member_id = await _second_membership_spent(app, "en", points=50)
    await cashier.say("/void R1")
    assert (await sales(app))[0].voided_at is not None
    assert await ledger(app, member_id) == [
        (50, "welcome"),
        (10, "sale"),
        (-10, "redeem"),
        (-10, "void"),
    ]


@pytest.mark.parametrize("role", ["manager", "owner"])
async def test_a_manager_or_owner_still_voids_it_with_the_points_written_off(
    app: App, role: str
) -> None:
    _, member_id = await _second_membership_spent(app, "en")
    boss = await staff_chat(app, "b1", role, language_code="en")
    await boss.say("/void R1")
    assert (await sales(app))[0].voided_at is not None
    assert t("en", "sale.void_unrecovered", points="10") in boss.text()
    assert await balance(app, member_id) == 0
