"""The cashier's daily cap and the owner's approve / decline buttons."""

from __future__ import annotations

from decimal import Decimal

from bot.bootstrap import App
from bot.i18n import t
from tests.chat import Chat
from tests.unit.sales_support import actions_of, approvals, balance, queued, sales, texts
from tests.unit.staff_support import (
    audit_rows,
    ensure_branches,
    make_member,
    make_staff,
    staff_chat,
)


async def _over_cap(app: App) -> tuple[Chat, Chat, int]:
    """Cashier Nok sold 19,000 THB today, then tries 1,500 more on receipt BIG."""
    await ensure_branches(app, ("asoke",))
    cashier = await staff_chat(app, "c1", "cashier", "asoke", name="Nok")
    owner = await staff_chat(app, "o1", "owner", name="Somchai")
    ploy = await make_member(app, user_id="m1", locale="en")
    await cashier.say(f"/sale {ploy.member_code} 19000 receipt=R0")
    await cashier.say(f"/sale {ploy.member_code} 1500 receipt=BIG")
    return cashier, owner, ploy.id


async def test_an_over_cap_sale_waits_and_the_owner_gets_buttons(app: App) -> None:
    cashier, _, _member_id = await _over_cap(app)
    assert [s.receipt_no for s in await sales(app)] == ["R0"]
    [approval] = await approvals(app)
    assert (approval.status, approval.amount, approval.receipt_no) == (
        "pending",
        Decimal("1500.00"),
        "BIG",
    )
    assert cashier.text() == t("th", "approval.requested", amount="1,500 บาท", receipt="BIG")
    [ask] = await queued(app, f"approval:{approval.id}:ask")
    assert ask.user_id == "o1"
    assert actions_of(ask) == [f"apv:y:{approval.id}", f"apv:n:{approval.id}"]
    assert "Nok" in texts(ask)


async def test_approve_records_the_sale_as_the_cashiers_and_tells_everyone(app: App) -> None:
    _, owner, member_id = await _over_cap(app)
    [approval] = await approvals(app)
    await owner.press(f"apv:y:{approval.id}")
    big = [s for s in await sales(app) if s.receipt_no == "BIG"]
    assert len(big) == 1
    assert big[0].staff_id == approval.requested_by_staff_id
    assert big[0].occurred_at == approval.created_at
    assert await balance(app, member_id) == 760 + 90  # 19,000 THB made her gold: 60 × 1.5
    [receipt] = await queued(app, f"receipt:{big[0].id}")
    assert "BIG" in texts(receipt)
    [told] = await queued(app, f"approval:{approval.id}:done")
    assert told.user_id == "c1"
    assert (await approvals(app))[0].status == "approved"
    assert t("th", "approval.approved_owner") in owner.text()


async def test_a_double_tapped_approve_records_once(app: App) -> None:
    _, owner, _member_id = await _over_cap(app)
    [approval] = await approvals(app)
    await owner.press(f"apv:y:{approval.id}")
    await owner.press(f"apv:y:{approval.id}")
    assert owner.text() == t("th", "approval.already_decided", status=t("th", "approval.approved"))
    assert len(await sales(app)) == 2
    assert len(await audit_rows(app, "sale.recorded")) == 2


async def test_decline_records_nothing_and_tells_the_cashier(app: App) -> None:
    _, owner, _member_id = await _over_cap(app)
    [approval] = await approvals(app)
    await owner.press(f"apv:n:{approval.id}")
    assert len(await sales(app)) == 1
    [told] = await queued(app, f"approval:{approval.id}:done")
    assert texts(told) == t("th", "approval.declined_cashier", receipt="BIG", amount="1,500 บาท")
    assert [e.details["receipt"] for e in await audit_rows(app, "sale.declined")] == ["BIG"]


async def test_a_cashier_cannot_press_approve(app: App) -> None:
    cashier, _, _ = await _over_cap(app)
    [approval] = await approvals(app)
    await cashier.press(f"apv:y:{approval.id}")
    assert cashier.text() == t("th", "error.not_allowed")
    assert (await approvals(app))[0].status == "pending"


async def test_a_customer_cannot_press_approve(app: App) -> None:
    await _over_cap(app)
    [approval] = await approvals(app)
    customer = Chat(app, user_id="m1")
    await customer.press(f"apv:y:{approval.id}")
    assert customer.text() == t("en", "error.not_allowed")
    assert len(await sales(app)) == 1


async def test_nobody_approves_their_own_request_even_after_a_promotion(app: App) -> None:
    cashier, _, _ = await _over_cap(app)
    await make_staff(app, "c1", "owner", name="Nok")
    [approval] = await approvals(app)
    await cashier.press(f"apv:y:{approval.id}")
    assert cashier.text() == t("th", "approval.own_sale")
    assert (await approvals(app))[0].status == "pending"


async def test_resending_a_waiting_receipt_does_not_ask_twice(app: App) -> None:
    cashier, _, _ = await _over_cap(app)
    async with app.uow() as uow:
        member = (await approvals(app))[0].member_id
        row = await uow.members.get(member)
        assert row is not None
        code = row.member_code
    await cashier.say(f"/sale {code} 1500 receipt=BIG")
    assert cashier.text() == t("th", "sale.awaiting_approval", receipt="BIG")
    assert len(await approvals(app)) == 1


async def test_owners_and_managers_have_no_cap(app: App) -> None:
    await ensure_branches(app, ("asoke",))
    manager = await staff_chat(app, "mg", "manager")
    ploy = await make_member(app, user_id="m1")
    await manager.say(f"/sale {ploy.member_code} 60000")
    await manager.say(f"/sale {ploy.member_code} 60000")
    assert len(await sales(app)) == 2
    assert await approvals(app) == []


async def test_the_cap_is_configurable_and_counts_only_today(app: App) -> None:
    await ensure_branches(app, ("asoke",))
    async with app.uow() as uow:
        await uow.settings.put("loyalty", {"cashier_daily_cap": 1000}, app.clock.now())
        await uow.commit()
    cashier = await staff_chat(app, "c1", "cashier", "asoke")
    ploy = await make_member(app, user_id="m1")
    await cashier.say(f"/sale {ploy.member_code} 1000")
    await cashier.say(f"/sale {ploy.member_code} 1")
    assert len(await sales(app)) == 1
    assert len(await approvals(app)) == 1


async def test_approve_after_the_member_erased_closes_the_request_and_tells_both(
    app: App,
) -> None:
    """The request was left pending for ever ("no longer exists", yet still asking)."""
    _, owner, member_id = await _over_cap(app)
    [approval] = await approvals(app)
    async with app.uow() as uow:
        member = await uow.members.get(member_id)
        assert member is not None
        await uow.erasure.erase_member(member, app.clock.now())
        await uow.commit()
    await owner.press(f"apv:y:{approval.id}")
    assert owner.text() == t("th", "approval.member_erased_owner", receipt="BIG")
    assert [s.receipt_no for s in await sales(app)] == ["R0"]
    [closed] = await approvals(app)
    assert (closed.status, closed.sale_id) == ("declined", None)
    [told] = await queued(app, f"approval:{approval.id}:done")
    assert told.user_id == "c1"
    assert "BIG" in texts(told)
    [entry] = await audit_rows(app, "sale.declined")
    assert entry.details["reason"] == "member_erased"
    await owner.press(f"apv:y:{approval.id}")  # pressed again: decided already, nothing more
    assert owner.text() == t("th", "approval.already_decided", status=t("th", "approval.declined"))


async def test_the_cashiers_answer_naming_the_member_goes_with_her_erasure(app: App) -> None:
    """The approved sale's notice to the cashier names the member: unsent when she erases
    herself, it is withdrawn with the owner's request that named her."""
    _, owner, member_id = await _over_cap(app)
    [approval] = await approvals(app)
    await owner.press(f"apv:y:{approval.id}")
    [told] = await queued(app, f"approval:{approval.id}:done")
    async with app.uow() as uow:
        member = await uow.members.get(member_id)
        assert member is not None
        assert member.name
        assert member.name in texts(told)
        await uow.erasure.erase_member(member, app.clock.now())
        await uow.commit()
    assert await queued(app, f"approval:{approval.id}:done") == []
    assert await queued(app, f"approval:{approval.id}:ask") == []
