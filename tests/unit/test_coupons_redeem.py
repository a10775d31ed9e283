"""/redeem at the counter: once only, at the right branch, with the member told."""

from __future__ import annotations

from datetime import timedelta

from bot.bootstrap import App
from bot.core.clock import FrozenClock
from handlers.staff.redeem import redeem_button
from shop.coupons import display_code
from tests.chat import Chat
from tests.unit.rewards_support import coupon_rows, make_coupon
from tests.unit.staff_support import (
    audit_rows,
    ensure_branch,
    member_chat,
    outbox_rows,
    staff_chat,
)


async def test_a_cashier_redeems_a_coupon_and_the_member_is_told(app: App) -> None:
    cashier = await staff_chat(app, "c1", "cashier", branch_code="asoke")
    _, member = await member_chat(app, "Ploy")
    coupon = await make_coupon(app, member.id)
    await cashier.say(f"/redeem {display_code(coupon.code).lower()}")
    assert "ชานมไข่มุกฟรี" in cashier.text()
    assert "Ploy" in cashier.text()
    [stored] = await coupon_rows(app)
    assert stored.status == "redeemed"
    assert stored.redeemed_at == app.clock.now()
    assert stored.redeemed_branch_id == await ensure_branch(app, "asoke")
    assert stored.redeemed_by_staff_id is not None
    [notice] = await outbox_rows(app, f"redeemed:{coupon.id}")
    assert notice.member_id == member.id
    assert "อโศก" in str(notice.payload)
    [audit] = await audit_rows(app, "coupon.redeemed")
    assert audit.member_id == member.id
    assert audit.details["coupon_id"] == coupon.id
    assert audit.actor == f"staff:{stored.redeemed_by_staff_id}"


async def test_the_member_notice_is_in_the_members_language(app: App) -> None:
    cashier = await staff_chat(app, "c1", "cashier", branch_code="asoke")
    _, member = await member_chat(app, "Ploy", locale="en")
    coupon = await make_coupon(app, member.id)
    await cashier.say(f"/redeem {coupon.code}")
    [notice] = await outbox_rows(app, "redeemed:")
    assert "Free bubble tea" in str(notice.payload)
    assert "Asoke" in str(notice.payload)


async def test_a_second_redeem_says_when_and_where_it_was_used(app: App) -> None:
    cashier = await staff_chat(app, "c1", "cashier", branch_code="asoke")
    _, member = await member_chat(app)
    coupon = await make_coupon(app, member.id)
    await cashier.say(f"/redeem {coupon.code}")
    await cashier.say(f"/redeem {coupon.code}")
    assert "ถูกใช้ไปแล้ว" in cashier.text()
    assert "อโศก" in cashier.text()
    assert len(await audit_rows(app, "coupon.redeemed")) == 1
    assert len(await outbox_rows(app, "redeemed:")) == 1


async def test_a_double_pressed_redeem_button_redeems_once(app: App) -> None:
    cashier = await staff_chat(app, "c1", "cashier", branch_code="asoke")
    _, member = await member_chat(app)
    coupon = await make_coupon(app, member.id)
    button = redeem_button("redeem", coupon.code)
    await cashier.press(button.action)
    await cashier.press(button.action)
    assert len(await audit_rows(app, "coupon.redeemed")) == 1
    assert "ถูกใช้ไปแล้ว" in cashier.text()


async def test_an_expired_coupon_is_refused(app: App, clock: FrozenClock) -> None:
    cashier = await staff_chat(app, "c1", "cashier", branch_code="asoke")
    _, member = await member_chat(app)
    coupon = await make_coupon(app, member.id, valid=timedelta(days=1))
    clock.advance(timedelta(days=2))
    await cashier.say(f"/redeem {coupon.code}")
    assert "หมดอายุ" in cashier.text()
    assert (await coupon_rows(app))[0].status == "issued"


async def test_an_unknown_code_is_not_found_and_audited_as_a_failure(app: App) -> None:
    cashier = await staff_chat(app, "c1", "cashier", branch_code="asoke")
    await cashier.say("/redeem ABCD-EFGH-JKMNP")
    assert "ไม่พบคูปอง" in cashier.text()
    assert len(await audit_rows(app, "coupon.redeem_failed")) == 1


async def test_a_coupon_for_other_branches_is_refused(app: App) -> None:
    await ensure_branch(app, "ratchada")
    cashier = await staff_chat(app, "c1", "cashier", branch_code="asoke")
    _, member = await member_chat(app)
    coupon = await make_coupon(app, member.id, branch_codes=["ratchada"])
    await cashier.say(f"/redeem {coupon.code}")
    assert "สาขานี้ไม่ได้" in cashier.text()
    assert (await coupon_rows(app))[0].status == "issued"


async def test_a_branch_scoped_cashier_cannot_redeem_for_another_branch(app: App) -> None:
    await ensure_branch(app, "ratchada")
    cashier = await staff_chat(app, "c1", "cashier", branch_code="asoke")
    _, member = await member_chat(app)
    coupon = await make_coupon(app, member.id, branch_codes=["ratchada"])
    await cashier.say(f"/redeem {coupon.code} branch=ratchada")
    assert "สาขาของคุณ" in cashier.text()
    assert (await coupon_rows(app))[0].status == "issued"


async def test_an_owner_without_branch_names_one_for_branch_limited_coupons(app: App) -> None:
    await ensure_branch(app, "asoke")
    ratchada = await ensure_branch(app, "ratchada")
    owner = await staff_chat(app, "o1", "owner")
    _, member = await member_chat(app)
    coupon = await make_coupon(app, member.id, branch_codes=["ratchada"])
    await owner.say(f"/redeem {coupon.code}")
    assert "branch=" in owner.text()
    await owner.say(f"/redeem {coupon.code} branch=ratchada")
    [stored] = await coupon_rows(app)
    assert stored.status == "redeemed"
    assert stored.redeemed_branch_id == ratchada


async def test_the_branch_option_is_read_in_thai_as_at_the_sale(app: App) -> None:
    """``สาขา=`` names the branch at /redeem as it does at /sale and /void (it was read as part
    of the coupon code: "no coupon with this code")."""
    await ensure_branch(app, "asoke")
    ratchada = await ensure_branch(app, "ratchada")
    owner = await staff_chat(app, "o1", "owner")
    _, member = await member_chat(app)
    coupon = await make_coupon(app, member.id, branch_codes=["ratchada"])
    await owner.say(f"/redeem {display_code(coupon.code)} สาขา=Ratchada")
    [stored] = await coupon_rows(app)
    assert stored.status == "redeemed"
    assert stored.redeemed_branch_id == ratchada


async def test_an_empty_branch_option_is_refused_with_the_usage(app: App) -> None:
    """``branch=`` with nothing after it is a mistake to show, not "no branch named"."""
    await ensure_branch(app, "asoke")
    await ensure_branch(app, "ratchada")
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    _, member = await member_chat(app)
    coupon = await make_coupon(app, member.id)
    await owner.say(f"/redeem {coupon.code} branch=")
    assert "Usage: /redeem" in owner.text()
    cashier = await staff_chat(app, "c1", "cashier", branch_code="asoke", language_code="en")
    await cashier.say("/redeem")
    await cashier.say(f"{coupon.code} สาขา=")
    assert "Usage: /redeem" in cashier.text()
    assert (await coupon_rows(app))[0].status == "issued"
    assert await audit_rows(app, "coupon.redeem_failed") == []


async def test_redeem_without_a_code_asks_for_it(app: App) -> None:
    cashier = await staff_chat(app, "c1", "cashier", branch_code="asoke")
    _, member = await member_chat(app)
    coupon = await make_coupon(app, member.id)
    await cashier.say("/redeem")
    await cashier.say(display_code(coupon.code))
    assert (await coupon_rows(app))[0].status == "redeemed"


async def test_a_customer_cannot_redeem(app: App) -> None:
    chat, member = await member_chat(app)
    coupon = await make_coupon(app, member.id)
    await chat.say(f"/redeem {coupon.code}")
    await chat.press(redeem_button("x", coupon.code).action)
    assert (await coupon_rows(app))[0].status == "issued"
    assert await audit_rows(app, "coupon.redeemed") == []


async def _guess(cashier: Chat, times: int) -> None:
    for number in range(times):
        await cashier.say(f"/redeem ZZZZ-ZZZZ-ZZZ{number:02d}")


async def test_guessing_is_throttled_after_ten_failures(app: App, clock: FrozenClock) -> None:
    cashier = await staff_chat(app, "c1", "cashier", branch_code="asoke")
    _, member = await member_chat(app)
    coupon = await make_coupon(app, member.id)
    await _guess(cashier, 10)
    await cashier.say(f"/redeem {coupon.code}")  # even a real code waits
    assert "รอ 10 นาที" in cashier.text()
    assert (await coupon_rows(app))[0].status == "issued"
    clock.advance(timedelta(minutes=10))
    await cashier.say(f"/redeem {coupon.code}")
    assert (await coupon_rows(app))[0].status == "redeemed"


async def test_failures_spread_over_more_than_ten_minutes_are_not_throttled(
    app: App, clock: FrozenClock
) -> None:
    cashier = await staff_chat(app, "c1", "cashier", branch_code="asoke")
    for _ in range(12):
        await _guess(cashier, 1)
        clock.advance(timedelta(minutes=2))
    assert "ไม่พบคูปอง" in cashier.text()


async def test_the_throttle_is_per_staff_account(app: App) -> None:
    first = await staff_chat(app, "c1", "cashier", branch_code="asoke")
    second = await staff_chat(app, "c2", "cashier", branch_code="asoke")
    await _guess(first, 10)
    await _guess(second, 1)
    assert "ไม่พบคูปอง" in second.text()
