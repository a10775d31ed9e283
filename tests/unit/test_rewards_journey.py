"""/rewards → pick → confirm → coupon, and /coupons, as a member experiences them."""

from __future__ import annotations

from datetime import timedelta

from bot.bootstrap import App
from bot.core.messages import Channel
from shop.coupons import display_code
from storage.models import InboxMessage, PointsEntry
from tests.chat import Chat
from tests.unit.journey_support import buttons, rows
from tests.unit.rewards_support import coupon_rows, make_coupon, make_reward, reward_row
from tests.unit.staff_support import audit_rows, ensure_branch, member_chat


async def test_rewards_list_shows_balance_and_offers_only_affordable_ones(app: App) -> None:
    chat, _ = await member_chat(app, points=100)
    tea = await make_reward(app, cost=80)
    cake = await make_reward(app, "เค้ก", "Cake", cost=150)
    await chat.say("/rewards")
    assert "100" in chat.text()
    assert "ชาไทย" in chat.text()
    assert "เค้ก" in chat.text()
    assert "50" in chat.text()  # the cake needs 50 more
    assert buttons(chat.last) == [f"rw:pick:{tea.id}"]
    assert f"rw:pick:{cake.id}" not in buttons(chat.last)


async def test_inactive_sold_out_and_ended_rewards_are_not_offered(app: App) -> None:
    chat, _ = await member_chat(app, points=100)
    await make_reward(app, "ปิด", "Off", active=False)
    await make_reward(app, "หมด", "Gone", stock=0)
    await chat.say("/rewards")
    assert "ปิด" not in chat.text()
    assert "หมด" not in chat.text()
    assert buttons(chat.last) == []


async def test_confirming_a_reward_issues_a_coupon_with_qr_and_debits_points(app: App) -> None:
    await ensure_branch(app, "asoke")
    chat, member = await member_chat(app, points=100)
    reward = await make_reward(app, cost=30, stock=5, branch_codes=["asoke"])
    await chat.say("/rewards")
    await chat.press(f"rw:pick:{reward.id}")
    assert "100" in chat.text()
    assert "70" in chat.text()
    await chat.press(f"rw:ok:{reward.id}")
    [coupon] = await coupon_rows(app)
    assert (coupon.member_id, coupon.reward_id, coupon.points_spent) == (member.id, reward.id, 30)
    assert coupon.status == "issued"
    assert coupon.branch_codes == ["asoke"]
    assert coupon.expires_at - app.clock.now() > timedelta(days=30)
    first = chat.last[0]
    assert display_code(coupon.code) in first.text
    assert "อโศก" in first.text
    assert "2569" in first.text  # Thai dates show the Buddhist Era
    assert first.attachment is not None
    assert first.attachment.content.startswith(b"\x89PNG")
    assert (await reward_row(app, reward.id)).stock == 4
    ledger = await rows(app, PointsEntry, PointsEntry.member_id == member.id)
    assert sorted(e.delta for e in ledger) == [-30, 100]
    [audit] = await audit_rows(app, "reward.redeemed")
    assert audit.details["balance_before"] == 100
    assert audit.details["balance_after"] == 70


async def test_a_double_tapped_confirm_issues_one_coupon(app: App) -> None:
    chat, member = await member_chat(app, points=100)
    reward = await make_reward(app, cost=20)
    await chat.say("/rewards")
    await chat.press(f"rw:pick:{reward.id}")
    await chat.press(f"rw:ok:{reward.id}")
    await chat.press(f"rw:ok:{reward.id}")
    assert len(await coupon_rows(app)) == 1
    ledger = await rows(app, PointsEntry, PointsEntry.member_id == member.id)
    assert sum(e.delta for e in ledger) == 80
    assert "หมดอายุ" in chat.text() or "expired" in chat.text()  # the button expired


async def test_not_enough_points_at_confirm_time_writes_nothing(app: App) -> None:
    chat, member = await member_chat(app, points=40)
    reward = await make_reward(app, cost=30, stock=3)
    await chat.say("/rewards")
    await chat.press(f"rw:pick:{reward.id}")
    async with app.uow() as uow:  # spent elsewhere in the meantime (e.g. on another channel)
        await uow.points.append(member.id, -20, "redeem", app.clock.now())
        await uow.commit()
    await chat.press(f"rw:ok:{reward.id}")
    assert "แต้มไม่พอ" in chat.text() or "20" in chat.text()
    assert await coupon_rows(app) == []
    assert (await reward_row(app, reward.id)).stock == 3


async def test_a_reward_sold_out_before_confirm_is_refused(app: App) -> None:
    chat, _ = await member_chat(app, points=100)
    other, _ = await member_chat(app, "Nok", "0899999999", user_id="m2", points=100)
    reward = await make_reward(app, cost=20, stock=1)
    await chat.say("/rewards")
    await chat.press(f"rw:pick:{reward.id}")
    await other.say("/rewards")
    await other.press(f"rw:pick:{reward.id}")
    await other.press(f"rw:ok:{reward.id}")
    await chat.press(f"rw:ok:{reward.id}")
    assert len(await coupon_rows(app)) == 1
    assert "ไม่มีให้แลกแล้ว" in chat.text()


async def test_picking_no_cancels_without_spending(app: App) -> None:
    chat, member = await member_chat(app, points=100)
    reward = await make_reward(app, cost=20)
    await chat.say("/rewards")
    await chat.press(f"rw:pick:{reward.id}")
    await chat.press("rw:no")
    assert await coupon_rows(app) == []
    assert len(await rows(app, PointsEntry, PointsEntry.member_id == member.id)) == 1


async def test_rewards_speak_english_to_an_english_member(app: App) -> None:
    chat, _ = await member_chat(app, points=100, locale="en")
    reward = await make_reward(app, cost=20)
    await chat.say("/rewards")
    await chat.press(f"rw:pick:{reward.id}")
    await chat.press(f"rw:ok:{reward.id}")
    assert "Thai tea" in chat.last[0].text
    assert "2026" in chat.last[0].text


async def test_coupons_lists_usable_ones_first_then_used_and_expired(app: App) -> None:
    chat, member = await member_chat(app, points=0)
    used = await make_coupon(app, member.id)
    usable = await make_coupon(app, member.id)
    await make_coupon(app, member.id, valid=timedelta(days=1))
    app.clock.advance(timedelta(days=2))  # type: ignore[attr-defined]
    async with app.uow() as uow:
        await uow.coupons.mark_redeemed(used.id, app.clock.now(), None, None)
        await uow.commit()
    await chat.say("/coupons")
    lines = chat.text().splitlines()[1:]
    assert display_code(usable.code) in lines[0]
    assert "ใช้แล้ว" in lines[1]
    assert "หมดอายุ" in lines[2]
    assert buttons(chat.last) == [f"cpn:{usable.id}"]


async def test_a_coupon_button_shows_the_members_own_coupon_only(app: App) -> None:
    chat, member = await member_chat(app)
    _other, stranger = await member_chat(app, "Nok", "0899999999", user_id="m2")
    mine = await make_coupon(app, member.id)
    theirs = await make_coupon(app, stranger.id)
    await chat.press(f"cpn:{mine.id}")
    assert display_code(mine.code) in chat.text()
    assert chat.last[0].attachment is not None
    await chat.press(f"cpn:{theirs.id}")
    assert display_code(theirs.code) not in chat.text()


async def test_rewards_is_for_members_only(app: App) -> None:
    stranger = Chat(app, user_id="x1", channel=Channel.LINE)
    await make_reward(app)
    await stranger.say("ของรางวัล")
    assert "rw:pick" not in " ".join(buttons(stranger.last))


async def test_typing_while_choosing_a_reward_is_a_message_to_the_shop(app: App) -> None:
    chat, _ = await member_chat(app, points=100)
    await make_reward(app, cost=20)
    await chat.say("/rewards")
    await chat.say("มีชาเขียวไหมคะ")
    [message] = await rows(app, InboxMessage)
    assert message.text == "มีชาเขียวไหมคะ"
    assert await coupon_rows(app) == []
