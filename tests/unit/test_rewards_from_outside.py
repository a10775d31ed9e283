"""A reward bought while the owner changes it: the member at the confirm question (which names
a price) while the owner, in /settings, changes the price, switches the reward off or its last
one goes; and the coupon a reward gave, used at the counter once. Driven through the bus as the
member, the owner and the cashier meet it; asserted on the ledger, the coupons and the replies."""

from __future__ import annotations

from bot.bootstrap import App
from handlers.customer.rewards import FLOW
from handlers.staff.settings.actions import settings_code
from shop.coupons import display_code
from tests.chat import Chat
from tests.storage.loyalty_money_support import at_confirm, text_of
from tests.unit.rewards_support import coupon_rows, make_reward, reward_row
from tests.unit.sales_support import balance, ledger
from tests.unit.staff_support import ensure_branch, ensure_branches, member_chat, staff_chat


async def _owner(app: App) -> Chat:
    return await staff_chat(app, "own", "owner", language_code="en")


async def test_confirm_states_the_price_it_charges(app: App) -> None:
    chat, ploy = await member_chat(app, points=100)
    tea = await make_reward(app, cost=20)
    asked = await at_confirm(chat, tea.id)
    assert "20" in text_of(asked)
    assert "80" in text_of(asked)  # the balance after
    await chat.press(f"{FLOW}:ok:{tea.id}")
    assert await ledger(app, ploy.id) == [(100, "welcome"), (-20, "redeem")]


async def test_a_price_raised_while_the_member_is_at_the_confirm_is_not_charged_unseen(
    app: App,
) -> None:
    """Ploy is asked "Thai tea for 20 points, 80 left?"; the owner then makes it 90 points.
    Her yes agreed to 20: she may be charged 20 or asked again, never 90 unseen."""
    chat, ploy = await member_chat(app, points=100)
    owner = await _owner(app)
    tea = await make_reward(app, cost=20)
    asked = await at_confirm(chat, tea.id)
    assert "20" in text_of(asked)
    await owner.press(settings_code("rwe", tea.id, "cost"))
    await owner.say("90")
    assert (await reward_row(app, tea.id)).points_cost == 90
    await chat.press(f"{FLOW}:ok:{tea.id}")
    spent = [delta for delta, reason in await ledger(app, ploy.id) if reason == "redeem"]
    assert spent in ([], [-20]), spent
    assert await balance(app, ploy.id) in (100, 80)


async def test_a_reward_switched_off_while_the_member_is_at_the_confirm_is_refused(
    app: App,
) -> None:
    chat, ploy = await member_chat(app, points=100)
    owner = await _owner(app)
    tea = await make_reward(app, cost=20, stock=3)
    await at_confirm(chat, tea.id)
    await owner.press(settings_code("rwt", tea.id))
    assert (await reward_row(app, tea.id)).active is False
    await chat.press(f"{FLOW}:ok:{tea.id}")
    assert "ไม่มีให้แลกแล้ว" in chat.text()
    assert await coupon_rows(app) == []
    assert await ledger(app, ploy.id) == [(100, "welcome")]
    assert (await reward_row(app, tea.id)).stock == 3


async def test_a_reward_whose_stock_the_owner_set_to_zero_at_the_confirm_is_refused(
    app: App,
) -> None:
    chat, ploy = await member_chat(app, points=100)
    owner = await _owner(app)
    tea = await make_reward(app, cost=20, stock=3)
    await at_confirm(chat, tea.id)
    await owner.press(settings_code("rwe", tea.id, "stock"))
    await owner.say("0")
    await chat.press(f"{FLOW}:ok:{tea.id}")
    assert "ไม่มีให้แลกแล้ว" in chat.text()
    assert await coupon_rows(app) == []
    assert await balance(app, ploy.id) == 100
    assert (await reward_row(app, tea.id)).stock == 0


async def test_a_confirm_for_another_reward_than_the_one_asked_about_is_refused(app: App) -> None:
    """Ploy picked the cake (90 points), then presses the yes of an older tea question: the
    yes is for the question showing, so nothing is bought."""
    chat, ploy = await member_chat(app, points=100)
    tea = await make_reward(app, cost=20)
    cake = await make_reward(app, "เค้ก", "Cake", cost=90)
    await at_confirm(chat, tea.id)
    await chat.press(f"rw:pick:{cake.id}")
    await chat.press(f"{FLOW}:ok:{tea.id}")
    assert await coupon_rows(app) == []
    assert await balance(app, ploy.id) == 100


async def test_a_reward_coupon_is_used_once_at_the_counter_and_shows_used_in_coupons(
    app: App,
) -> None:
    await ensure_branch(app, "asoke")
    cashier = await staff_chat(app, "c1", "cashier", "asoke", language_code="en")
    chat, ploy = await member_chat(app, points=100)
    tea = await make_reward(app, cost=20)
    await at_confirm(chat, tea.id)
    await chat.press(f"{FLOW}:ok:{tea.id}")
    [coupon] = await coupon_rows(app)
    await cashier.say(f"/redeem {display_code(coupon.code)}")
    assert "Thai tea" in cashier.text()
    await cashier.say(f"/redeem {display_code(coupon.code)}")
    assert "already" in cashier.text().casefold()
    [used] = await coupon_rows(app)
    assert used.status == "redeemed"
    await chat.say("/coupons")
    assert display_code(coupon.code) not in chat.text()  # no longer offered as usable
    assert await balance(app, ploy.id) == 80


async def test_a_reward_only_for_a_closed_branch_costs_no_points(app: App) -> None:
    """The tea is redeemable at Asoke only, and the owner closed Asoke (its counter refuses
    every /redeem): Ploy is not sold a coupon nobody can take, so she keeps her points."""
    await ensure_branches(app, ("asoke", "ratchada"))
    owner = await _owner(app)
    chat, ploy = await member_chat(app, points=100)
    tea = await make_reward(app, cost=20, branch_codes=["asoke"])
    await owner.press("brn:close:asoke")
    assert "closed" in owner.text()
    await chat.say("/rewards")
    await chat.press(f"rw:pick:{tea.id}")
    await chat.press(f"{FLOW}:ok:{tea.id}")
    assert await coupon_rows(app) == []
    assert await balance(app, ploy.id) == 100
