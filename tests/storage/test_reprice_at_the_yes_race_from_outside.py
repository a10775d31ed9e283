"""The owner saves a new price for a reward at the very moment a member presses yes at its
confirm (on PostgreSQL the purchase has read the reward, at the old price, when the new price
commits). Either the purchase came first (bought at the price the question named) or the new
price did (the member is told the price changed and asked again at the new one, as when the
owner's change lands a moment earlier). Never "sold out or ended" for a reward that is neither.
SQLite has one writer: the owner's change waits for the purchase."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.bootstrap import App
from bot.i18n import t
from handlers.customer.rewards import FLOW
from handlers.staff.settings.actions import settings_code
from storage.repositories.rewards import Rewards
from tests.storage.loyalty_money_support import Held, at_confirm, text_of
from tests.unit.rewards_support import coupon_rows, make_reward, reward_row
from tests.unit.sales_support import ledger
from tests.unit.staff_support import member_chat, staff_chat


async def test_a_price_saved_during_the_yes_is_told_as_a_price_change_never_as_gone(
    app: App, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    chat, ploy = await member_chat(app, "Ploy", "0811111111", user_id="m1", points=100, locale="en")
    owner = await staff_chat(app, "own", "owner", language_code="en")
    tea = await make_reward(app, cost=20, stock=5)
    await at_confirm(chat, tea.id)
    await owner.press(settings_code("rwe", tea.id, "cost"))
    held = Held(monkeypatch, Rewards, "get")  # the purchase has read the reward at 20
    bought, _ = await held.while_held(
        lambda: chat.press(f"{FLOW}:ok:{tea.id}"), lambda: owner.say("90"), engine
    )
    said = text_of(bought)
    assert t("en", "rewards.unavailable") not in said, said
    assert (await reward_row(app, tea.id)).points_cost == 90
    coupons = await coupon_rows(app)
    if coupons:  # the purchase came first, at the price asked about
        assert [c.points_spent for c in coupons] == [20]
        assert await ledger(app, ploy.id) == [(100, "welcome"), (-20, "redeem")]
    else:  # the new price came first: told, asked again, nothing taken
        assert "changed from 20 points to 90 points" in said, said
        assert "Redeem Thai tea for 90 points?" in said, said
        assert await ledger(app, ploy.id) == [(100, "welcome")]
        assert (await reward_row(app, tea.id)).stock == 5
