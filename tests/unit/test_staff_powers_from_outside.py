"""Loyalty money moved only by those allowed to: a cashier or a customer pressing the owner's
reward buttons, an owner removed half-way through editing a price, a removed owner pressing an
old approve button, a customer typing staff commands. Driven through the bus with the buttons'
real action codes; asserted on the reward, the sales and the ledger."""

from __future__ import annotations

from bot.bootstrap import App
from handlers.staff.settings.actions import settings_code
from tests.unit.rewards_support import make_reward, reward_row
from tests.unit.sales_support import approvals, balance, ledger, sales
from tests.unit.staff_support import (
    ensure_branch,
    member_chat,
    staff_chat,
    staff_of,
)


async def _remove(app: App, user_id: str) -> None:
    staff = await staff_of(app, user_id)
    assert staff is not None
    async with app.uow() as uow:
        row = await uow.staff.get(staff.id)
        assert row is not None
        await uow.staff.deactivate(row)
        await uow.commit()


async def test_a_cashier_pressing_the_owners_price_button_changes_no_price(app: App) -> None:
    await ensure_branch(app, "asoke")
    cashier = await staff_chat(app, "c1", "cashier", "asoke", language_code="en")
    tea = await make_reward(app, cost=200)
    await cashier.press(settings_code("rwe", tea.id, "cost"))
    await cashier.say("1")
    await cashier.press(settings_code("rwt", tea.id))
    stored = await reward_row(app, tea.id)
    assert (stored.points_cost, stored.active) == (200, True)


async def test_a_customer_pressing_the_owners_reward_buttons_changes_nothing(app: App) -> None:
    chat, _ = await member_chat(app, points=10)
    tea = await make_reward(app, cost=200, stock=1)
    await chat.press(settings_code("rwe", tea.id, "cost"))
    await chat.say("1")
    await chat.press(settings_code("rwe", tea.id, "stock"))
    await chat.say("999")
    stored = await reward_row(app, tea.id)
    assert (stored.points_cost, stored.stock) == (200, 1)


async def test_an_owner_removed_half_way_through_a_price_edit_cannot_finish_it(app: App) -> None:
    owner = await staff_chat(app, "own", "owner", language_code="en")
    await staff_chat(app, "own2", "owner", language_code="en")
    tea = await make_reward(app, cost=200)
    await owner.press(settings_code("rwe", tea.id, "cost"))
    await _remove(app, "own")
    await owner.say("1")
    assert (await reward_row(app, tea.id)).points_cost == 200


async def test_a_removed_owner_pressing_an_old_approve_button_records_no_sale(app: App) -> None:
    await ensure_branch(app, "asoke")
    cashier = await staff_chat(app, "c1", "cashier", "asoke", language_code="en")
    owner = await staff_chat(app, "own", "owner", language_code="en")
    await staff_chat(app, "own2", "owner", language_code="en")
    _, ploy = await member_chat(app, "Ploy", "0811111111", user_id="m1")
    await cashier.say(f"/sale {ploy.member_code} 25000 receipt=BIG")
    [request] = await approvals(app)
    await _remove(app, "own")
    await owner.press(f"apv:y:{request.id}")
    assert await sales(app) == []
    assert await ledger(app, ploy.id) == []
    [still] = await approvals(app)
    assert still.status == "pending"


async def test_a_customer_typing_staff_money_commands_moves_nothing(app: App) -> None:
    await ensure_branch(app, "asoke")
    chat, ploy = await member_chat(app, "Ploy", "0811111111", user_id="m1", points=10)
    for typed in (
        f"/sale {ploy.member_code} 2500",
        f"/adjust {ploy.member_code} +1000 gift",
        "/void R1",
        "/settings",
    ):
        await chat.say(typed)
        assert "went wrong" not in chat.text()
    assert await sales(app) == []
    assert await balance(app, ploy.id) == 10
