"""``/void``: compensating entries, once only, and who may void which sale."""

from __future__ import annotations

from datetime import timedelta

from bot.bootstrap import App
from bot.core.clock import FrozenClock
from bot.i18n import t
from tests.chat import Chat
from tests.unit.sales_support import balance, ledger, queued, sales, texts
from tests.unit.staff_support import audit_rows, ensure_branches, make_member, staff_chat


async def _sold(app: App, points: int = 0) -> tuple[Chat, int]:
    """A shop with an Asoke cashier who sold 250 THB (10 points) on receipt R1."""
    await ensure_branches(app, ("asoke", "ratchada"))
    cashier = await staff_chat(app, "c1", "cashier", "asoke")
    ploy = await make_member(app, user_id="m1", points=points)
    await cashier.say(f"/sale {ploy.member_code} 250 receipt=R1")
    return cashier, ploy.id


async def test_a_manager_voids_with_a_compensating_entry(app: App) -> None:
    _, member_id = await _sold(app)
    manager = await staff_chat(app, "mg", "manager")
    await manager.say("/void R1")
    [sale] = await sales(app)
    assert sale.voided_at == app.clock.now()
    assert await ledger(app, member_id) == [(10, "sale"), (-10, "void")]
    assert await balance(app, member_id) == 0
    assert manager.text() == t(
        "th", "sale.voided", receipt="R1", amount="250 บาท", points="10", balance="0"
    )


async def test_the_member_is_told_and_the_void_audited(app: App) -> None:
    _, member_id = await _sold(app)
    manager = await staff_chat(app, "mg", "manager")
    await manager.say("/void R1")
    [sale] = await sales(app)
    [row] = await queued(app, f"void:{sale.id}")
    assert "R1" in texts(row)
    assert row.member_id == member_id
    [entry] = await audit_rows(app, "sale.voided")
    assert entry.details["points"] == -10
    assert (entry.details["balance_before"], entry.details["balance_after"]) == (10, 0)


async def test_voiding_twice_says_already_voided(app: App) -> None:
    _, member_id = await _sold(app)
    manager = await staff_chat(app, "mg", "manager")
    await manager.say("/void R1")
    await manager.say("/void R1")
    assert manager.text() == t("th", "sale.already_voided", receipt="R1")
    assert await ledger(app, member_id) == [(10, "sale"), (-10, "void")]


async def test_points_already_spent_are_written_off_not_taken_below_zero(app: App) -> None:
    _, member_id = await _sold(app)
    async with app.uow() as uow:
        await uow.points.append(member_id, -8, "redeem", app.clock.now())
        await uow.commit()
    manager = await staff_chat(app, "mg", "manager")
    await manager.say("/void R1")
    assert await ledger(app, member_id) == [(10, "sale"), (-8, "redeem"), (-2, "void")]
    assert await balance(app, member_id) == 0
    assert t("th", "sale.void_unrecovered", points="8") in manager.text()
    [entry] = await audit_rows(app, "sale.voided")
    assert entry.details["unrecovered"] == 8


async def test_a_cashier_voids_their_own_fresh_sale(app: App) -> None:
    cashier, member_id = await _sold(app)
    await cashier.say("/void R1")
    assert await balance(app, member_id) == 0


async def test_a_cashier_cannot_void_their_sale_after_30_minutes(
    app: App, clock: FrozenClock
) -> None:
    cashier, member_id = await _sold(app)
    clock.advance(timedelta(minutes=31))
    await cashier.say("/void R1")
    assert cashier.text() == t("th", "sale.void_too_late", minutes=30)
    assert await balance(app, member_id) == 10


async def test_a_cashier_cannot_void_another_branchs_sale(app: App) -> None:
    await _sold(app)
    other = await staff_chat(app, "c2", "cashier", "ratchada")
    await other.say("/void R1")
    assert other.text() == t("th", "sale.void_other_branch")
    assert (await sales(app))[0].voided_at is None


async def test_a_scoped_manager_cannot_void_another_branchs_sale(app: App) -> None:
    await _sold(app)
    manager = await staff_chat(app, "mg", "manager", "ratchada")
    await manager.say("/void R1")
    assert manager.text() == t("th", "sale.void_other_branch")


async def test_a_cashier_cannot_void_a_colleagues_sale(app: App) -> None:
    _, member_id = await _sold(app)
    colleague = await staff_chat(app, "c2", "cashier", "asoke")
    await colleague.say("/void R1")
    assert colleague.text() == t("th", "sale.void_not_yours")
    assert await balance(app, member_id) == 10


async def test_an_unknown_receipt_is_named_back(app: App) -> None:
    await _sold(app)
    manager = await staff_chat(app, "mg", "manager")
    await manager.say("/void NOPE")
    assert manager.text() == t("th", "sale.receipt_not_found", receipt="NOPE")


async def test_a_voided_receipt_cannot_be_recorded_again(app: App) -> None:
    cashier, member_id = await _sold(app)
    await cashier.say("/void R1")
    async with app.uow() as uow:
        member = await uow.members.get(member_id)
        assert member is not None
        code = member.member_code
    await cashier.say(f"/sale {code} 250 receipt=R1")
    assert cashier.text() == t("th", "sale.receipt_voided", receipt="R1")
    assert await balance(app, member_id) == 0


async def test_a_customer_cannot_void(app: App) -> None:
    _, member_id = await _sold(app)
    customer = Chat(app, user_id="m1")
    await customer.say("/void R1")
    assert customer.text() == t("th", "error.not_allowed")
    assert await balance(app, member_id) == 10
