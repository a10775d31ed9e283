"""/settings: the owner edits the reward catalog and the loyalty rules; nobody else can."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from bot.bootstrap import App
from shop.loyalty import LoyaltyRules, Tier
from storage.models import Reward
from tests.chat import Chat
from tests.unit.journey_support import buttons, rows
from tests.unit.rewards_support import make_reward, reward_row
from tests.unit.staff_support import audit_rows, ensure_branches, member_chat, staff_chat


async def _stored_rules(app: App) -> LoyaltyRules:
    async with app.uow() as uow:
        return LoyaltyRules.from_setting(await uow.settings.get("loyalty"))


async def _add_reward(owner: Chat) -> None:
    await owner.say("/settings")
    await owner.press("set:rw")
    await owner.press("set:rwadd")
    for answer in ("ชาไทยเย็น", "Iced Thai tea", "๑๒๐", "50", "1/4/2569", "30/4/2569"):
        await owner.say(answer)
    await owner.press("setv:br:asoke")
    await owner.press("setv:br:ratchada")
    await owner.press("setv:done")
    await owner.say("14")


async def test_the_owner_adds_a_reward_step_by_step(app: App) -> None:
    await ensure_branches(app, ("asoke", "ratchada"))
    owner = await staff_chat(app, "o1", "owner")
    await _add_reward(owner)
    assert "Iced Thai tea" in owner.text()
    assert "120" in owner.text()
    await owner.press("setv:save")
    [reward] = await rows(app, Reward)
    assert (reward.name_th, reward.name_en, reward.points_cost) == (
        "ชาไทยเย็น",
        "Iced Thai tea",
        120,
    )
    assert (reward.stock, reward.valid_days, reward.branch_codes) == (50, 14, ["asoke", "ratchada"])
    assert reward.starts_at == datetime(2026, 3, 31, 17, 0, tzinfo=UTC)  # 1 April, Bangkok
    assert reward.ends_at == datetime(2026, 4, 30, 17, 0, tzinfo=UTC)  # all of 30 April
    [audit] = await audit_rows(app, "reward.created")
    assert audit.details["after"]["points_cost"] == 120
    assert audit.actor.startswith("staff:")


async def test_optional_answers_can_be_skipped(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner")
    await owner.say("/settings")
    await owner.press("set:rwadd")
    await owner.say("เค้ก")
    await owner.say("Cake")
    await owner.say("200")
    await owner.press("setv:unlimited")
    await owner.press("setv:skip")
    await owner.press("setv:skip")
    await owner.press("setv:d30")  # no branches in this shop: that step is left out
    await owner.press("setv:save")
    [reward] = await rows(app, Reward)
    assert (reward.stock, reward.starts_at, reward.ends_at, reward.branch_codes) == (
        None,
        None,
        None,
        [],
    )


async def test_a_bad_answer_is_explained_and_asked_again(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner")
    await owner.say("/settings")
    await owner.press("set:rwadd")
    await owner.say("เค้ก")
    await owner.say("Cake")
    await owner.say("free")
    assert "จำนวนเต็ม" in owner.text()
    assert "แลก" in owner.text()
    await owner.say("-5")
    assert "จำนวนเต็ม" in owner.text()
    await owner.say("100")
    assert "กี่ชิ้น" in owner.text()


async def test_a_last_day_before_the_first_is_refused(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner")
    await owner.say("/settings")
    await owner.press("set:rwadd")
    for answer in ("เค้ก", "Cake", "100", "5", "10/4/2569", "1/4/2569"):
        await owner.say(answer)
    assert "ต้องไม่ก่อนวันแรก" in owner.text()


async def test_cancel_leaves_the_catalog_untouched(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner")
    await owner.say("/settings")
    await owner.press("set:rwadd")
    await owner.say("เค้ก")
    await owner.press("setv:cancel")
    assert await rows(app, Reward) == []


async def test_the_owner_edits_cost_and_stock_with_before_and_after_audited(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner")
    reward = await make_reward(app, cost=20, stock=5)
    await owner.press(f"set:rw:{reward.id}")
    await owner.press(f"set:rwe:{reward.id}:cost")
    await owner.say("35")
    await owner.press(f"set:rwe:{reward.id}:stock")
    await owner.press("setv:unlimited")
    stored = await reward_row(app, reward.id)
    assert (stored.points_cost, stored.stock) == (35, None)
    changes = [
        (a.details["field"], a.details["before"], a.details["after"])
        for a in await audit_rows(app, "reward.updated")
    ]
    assert changes == [("points_cost", 20, 35), ("stock", 5, None)]


async def test_a_deactivated_reward_is_no_longer_offered(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner")
    member, _ = await member_chat(app, points=100)
    reward = await make_reward(app, cost=20)
    await owner.press(f"set:rwt:{reward.id}")
    assert (await reward_row(app, reward.id)).active is False
    await member.say("/rewards")
    assert buttons(member.last) == []


async def test_the_owner_changes_points_per_baht(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner")
    await owner.say("/settings")
    await owner.press("set:rules")
    await owner.press("set:rule:baht_per_point")
    await owner.say("๒๐")
    assert (await _stored_rules(app)).baht_per_point == Decimal(20)
    [audit] = await audit_rows(app, "settings.changed")
    assert (audit.details["field"], audit.details["before"], audit.details["after"]) == (
        "baht_per_point",
        "25",
        "20",
    )


async def test_the_owner_sets_tiers_with_multipliers(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner")
    await owner.press("set:rule:tiers")
    await owner.say("member 0 1\nVIP 5,000 2\nsilver 2000 1.5")
    assert (await _stored_rules(app)).tiers == (
        Tier("member", Decimal(0), Decimal(1)),
        Tier("silver", Decimal(2000), Decimal("1.5")),
        Tier("vip", Decimal(5000), Decimal(2)),
    )


async def test_tiers_without_a_zero_start_are_refused(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner")
    await owner.press("set:rule:tiers")
    await owner.say("silver 2000 1.5")
    assert "อ่านระดับสมาชิกไม่ออก" in owner.text()
    assert (await _stored_rules(app)).tiers == LoyaltyRules().tiers


async def test_editing_one_rule_keeps_the_others(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner")
    async with app.uow() as uow:
        await uow.settings.put("loyalty", {"welcome_points": 10, "other": "kept"}, app.clock.now())
        await uow.commit()
    await owner.press("set:rule:cashier_daily_cap")
    await owner.say("15,000")
    async with app.uow() as uow:
        stored = await uow.settings.get("loyalty")
    assert stored == {"welcome_points": 10, "other": "kept", "cashier_daily_cap": "15000"}


async def test_a_customer_cannot_open_settings_or_press_its_buttons(app: App) -> None:
    member, _ = await member_chat(app, points=100)
    reward = await make_reward(app, cost=20)
    await member.say("/settings")
    assert "ไม่มีสิทธิ์" in member.text()
    await member.press(f"set:rwt:{reward.id}")
    await member.press("set:rule:welcome_points")
    await member.press("setv:save")
    await member.say("0")
    assert (await reward_row(app, reward.id)).active is True
    assert await audit_rows(app, "settings.changed") == []


async def test_a_cashier_cannot_open_settings(app: App) -> None:
    cashier = await staff_chat(app, "c1", "cashier", branch_code="asoke")
    reward = await make_reward(app, cost=20)
    await cashier.say("/settings")
    assert "ไม่มีสิทธิ์" in cashier.text()
    assert buttons(cashier.last) == []
    await cashier.press(f"set:rwe:{reward.id}:cost")
    await cashier.say("1")
    assert (await reward_row(app, reward.id)).points_cost == 20


async def test_an_owner_demoted_mid_edit_cannot_finish_it(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner")
    await owner.press("set:rule:welcome_points")
    async with app.uow() as uow:
        await uow.staff.add("telegram", "o1", "o1", "cashier", None, app.clock.now())
        await uow.commit()
    await owner.say("999")
    assert await audit_rows(app, "settings.changed") == []
    assert (await _stored_rules(app)).welcome_points == 50
