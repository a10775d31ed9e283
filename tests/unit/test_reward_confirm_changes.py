"""The reward a member is asked about changes before the yes: its price (raised beyond the
balance, lowered, raised within it) or its only branch closes. The yes buys what the question
named or nothing; a new price is told and asked about again, in the member's language."""

from __future__ import annotations

from bot.bootstrap import App
from handlers.customer.rewards import FLOW
from handlers.staff.settings.actions import settings_code
from tests.chat import Chat
from tests.storage.loyalty_money_support import at_confirm
from tests.unit.rewards_support import coupon_rows, make_reward
from tests.unit.sales_support import balance, ledger
from tests.unit.staff_support import ensure_branches, member_chat, staff_chat


async def _reprice(app: App, reward_id: int, cost: int) -> None:
    owner = await staff_chat(app, "own", "owner", language_code="en")
    await owner.press(settings_code("rwe", reward_id, "cost"))
    await owner.say(str(cost))


async def test_a_raised_price_is_told_and_asked_again_then_charged_as_asked(app: App) -> None:
    chat, ploy = await member_chat(app, points=100, locale="en")
    tea = await make_reward(app, cost=20)
    await at_confirm(chat, tea.id)
    await _reprice(app, tea.id, 90)
    await chat.press(f"{FLOW}:ok:{tea.id}")
    assert "changed from 20 points to 90 points" in chat.text(), chat.text()
    assert "Redeem Thai tea for 90 points?" in chat.text()
    assert await coupon_rows(app) == []
    assert await balance(app, ploy.id) == 100
    await chat.press(f"{FLOW}:ok:{tea.id}")  # the yes of the new question
    assert await ledger(app, ploy.id) == [(100, "welcome"), (-90, "redeem")]
    [coupon] = await coupon_rows(app)
    assert coupon.points_spent == 90


async def test_a_price_raised_beyond_the_balance_is_told_in_thai_and_nothing_is_bought(
    app: App,
) -> None:
    chat, ploy = await member_chat(app, points=100)
    tea = await make_reward(app, cost=20)
    await at_confirm(chat, tea.id)
    await _reprice(app, tea.id, 150)
    await chat.press(f"{FLOW}:ok:{tea.id}")
    assert "เปลี่ยนจาก 20 เป็น 150 แต้ม" in chat.text(), chat.text()
    await chat.press(f"{FLOW}:ok:{tea.id}")  # no question is showing any more
    assert await coupon_rows(app) == []
    assert await balance(app, ploy.id) == 100


async def test_a_lowered_price_is_asked_about_again_too(app: App) -> None:
    chat, ploy = await member_chat(app, points=100, locale="en")
    tea = await make_reward(app, cost=20)
    await at_confirm(chat, tea.id)
    await _reprice(app, tea.id, 10)
    await chat.press(f"{FLOW}:ok:{tea.id}")
    assert "Redeem Thai tea for 10 points?" in chat.text()
    assert await balance(app, ploy.id) == 100


async def _closing(app: App) -> Chat:
    await ensure_branches(app, ("asoke", "ratchada"))
    return await staff_chat(app, "own", "owner", language_code="en")


async def test_a_reward_whose_only_branch_closes_at_the_confirm_is_refused(app: App) -> None:
    owner = await _closing(app)
    chat, ploy = await member_chat(app, points=100)
    tea = await make_reward(app, cost=20, branch_codes=["asoke"], stock=3)
    await at_confirm(chat, tea.id)
    await owner.press("brn:close:asoke")
    await chat.press(f"{FLOW}:ok:{tea.id}")
    assert "ไม่มีให้แลกแล้ว" in chat.text()
    assert await coupon_rows(app) == []
    assert await balance(app, ploy.id) == 100


async def test_a_reward_with_one_of_its_branches_open_is_still_sold(app: App) -> None:
    owner = await _closing(app)
    chat, ploy = await member_chat(app, points=100)
    tea = await make_reward(app, cost=20, branch_codes=["asoke", "ratchada"])
    await owner.press("brn:close:asoke")
    await chat.say("/rewards")
    assert "ชาไทย" in chat.text()
    await at_confirm(chat, tea.id)
    await chat.press(f"{FLOW}:ok:{tea.id}")
    [coupon] = await coupon_rows(app)
    assert coupon.branch_codes == ["asoke", "ratchada"]
    assert await balance(app, ploy.id) == 80
