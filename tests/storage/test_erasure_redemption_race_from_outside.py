"""Ploy erases her membership from her LINE account while her Telegram account is at a reward's
confirm and presses yes, or presses a promotion's button to claim its coupon. The erasure locks
her row first and voids her unused coupons ("nobody may redeem them"); a purchase or claim
arriving meanwhile must wait for it and then find no member to spend for or give to: no coupon
left usable, no points taken from the erased member, the stock untouched, and a plain answer
(not an apology for a fault of the shop's system).

On PostgreSQL the erasure is held inside its transaction after it forgot her messages (or her
chat accounts) while the press arrives; SQLite has one writer and the press waits for it whole."""

from __future__ import annotations

import pytest

from bot.bootstrap import App
from bot.core.messages import Channel
from handlers.customer.rewards import FLOW
from storage.repositories.erasure import Erasure
from tests.domain.campaign_support import launch_now, make_campaign
from tests.storage.loyalty_money_support import at_confirm, second_account, text_of
from tests.storage.test_races_from_outside import Held
from tests.unit.rewards_support import coupon_rows, make_reward, reward_row
from tests.unit.sales_support import ledger
from tests.unit.staff_support import member_chat

APOLOGY = ("went wrong", "ขออภัย")


@pytest.mark.parametrize("held_after", ["_forget_messages", "_forget_accounts"])
async def test_a_reward_confirmed_during_the_members_erasure_leaves_no_usable_coupon(
    app: App, monkeypatch: pytest.MonkeyPatch, held_after: str
) -> None:
    chat, ploy = await member_chat(app, "Ploy", "0811111111", user_id="m1", points=100)
    line = await second_account(app, ploy.id, "U1", Channel.LINE)
    tea = await make_reward(app, cost=20, stock=5)
    await line.say("/deleteme")
    await at_confirm(chat, tea.id)  # seen just now: the yes's arrival writes nothing
    held = Held(monkeypatch, Erasure, held_after, after=True)
    _, bought = await held.while_held(
        lambda: line.press("del:yes"), lambda: chat.press(f"{FLOW}:ok:{tea.id}")
    )
    assert not any(word in text_of(bought) for word in APOLOGY), text_of(bought)
    async with app.uow() as uow:
        member = await uow.members.get(ploy.id)
        assert member is not None
        assert member.erased_at is not None
    assert [c for c in await coupon_rows(app) if c.status == "issued"] == []
    assert await ledger(app, ploy.id) == [(100, "welcome")]
    assert (await reward_row(app, tea.id)).stock == 5


@pytest.mark.parametrize("held_after", ["_forget_messages", "_forget_accounts"])
async def test_a_promotion_claimed_during_the_members_erasure_leaves_no_usable_coupon(
    app: App, monkeypatch: pytest.MonkeyPatch, held_after: str
) -> None:
    chat, ploy = await member_chat(app, "Ploy", "0811111111", user_id="m1")
    line = await second_account(app, ploy.id, "U1", Channel.LINE)
    campaign = await make_campaign(app, offer={"kind": "percent", "value": "20"}, holdout_pct=0)
    await launch_now(app, campaign.id)
    await line.say("/deleteme")
    await chat.say("/points")  # seen just now: the press's arrival writes nothing
    held = Held(monkeypatch, Erasure, held_after, after=True)
    _, pressed = await held.while_held(
        lambda: line.press("del:yes"), lambda: chat.press(f"cmp:{campaign.id}")
    )
    assert not any(word in text_of(pressed) for word in APOLOGY), text_of(pressed)
    assert [c for c in await coupon_rows(app) if c.status == "issued"] == []
