"""``/adjust MEMBER ±N reason``: managers and owners only, with a reason, never below zero."""

from __future__ import annotations

from bot.bootstrap import App
from bot.i18n import t
from tests.unit.sales_support import balance, ledger, queued, texts
from tests.unit.staff_support import audit_rows, make_member, staff_chat


async def test_a_manager_adds_points_with_a_reason(app: App) -> None:
    manager = await staff_chat(app, "mg", "manager")
    ploy = await make_member(app, user_id="m1", points=10)
    await manager.say("/adjust 081 234 5678 +50 birthday   gift")
    assert await ledger(app, ploy.id) == [(10, "welcome"), (50, "adjust")]
    assert manager.text() == t(
        "th",
        "adjust.done",
        member=f"Ploy ({ploy.member_code})",
        points="+50",
        before="10",
        balance="60",
    )


async def test_the_adjustment_is_audited_and_the_member_told(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner")
    ploy = await make_member(app, user_id="m1", points=30, locale="en")
    await owner.say(f"/adjust {ploy.member_code} -20 double scan")
    [entry] = await audit_rows(app, "points.adjusted")
    assert entry.member_id == ploy.id
    assert entry.details == {
        "points": -20,
        "reason": "double scan",
        "balance_before": 30,
        "balance_after": 10,
    }
    [row] = await queued(app, "adjust:")
    assert texts(row) == t(
        "en", "adjust.member_removed", points="20", reason="double scan", balance="10"
    )


async def test_taking_more_than_the_balance_is_refused(app: App) -> None:
    manager = await staff_chat(app, "mg", "manager")
    ploy = await make_member(app, user_id="m1", points=10)
    await manager.say(f"/adjust {ploy.member_code} -11 oops")
    assert manager.text() == t("th", "adjust.below_zero", balance="10", points="11")
    assert await balance(app, ploy.id) == 10
    assert await audit_rows(app, "points.adjusted") == []


async def test_a_cashier_cannot_adjust(app: App) -> None:
    cashier = await staff_chat(app, "c1", "cashier")
    ploy = await make_member(app, user_id="m1", points=10)
    await cashier.say(f"/adjust {ploy.member_code} +500 friend")
    assert cashier.text() == t("th", "error.not_allowed")
    assert await ledger(app, ploy.id) == [(10, "welcome")]


async def test_a_reason_is_required(app: App) -> None:
    manager = await staff_chat(app, "mg", "manager")
    ploy = await make_member(app, user_id="m1")
    await manager.say(f"/adjust {ploy.member_code} +5")
    assert manager.text() == t("th", "adjust.reason_required")
    assert await ledger(app, ploy.id) == []


async def test_zero_points_are_refused(app: App) -> None:
    manager = await staff_chat(app, "mg", "manager")
    ploy = await make_member(app, user_id="m1")
    await manager.say(f"/adjust {ploy.member_code} 0 nothing")
    assert manager.text() == t("th", "adjust.delta_invalid", max="1,000,000")


async def test_without_points_the_usage_is_shown(app: App) -> None:
    manager = await staff_chat(app, "mg", "manager")
    await manager.say("/adjust somebody gift")
    assert manager.text() == t("th", "adjust.usage")
