"""A reward coupon's last day ends at the shop's midnight (Asia/Bangkok), not UTC's: used at
23:59 on its last shop day, refused a minute after midnight with that day named, and listed
in /coupons accordingly. Bought through /rewards, used through /redeem."""

from __future__ import annotations

from datetime import timedelta

from bot.bootstrap import App
from bot.core.clock import FrozenClock
from handlers.customer.rewards import FLOW
from shop.coupons import display_code
from tests.chat import Chat
from tests.domain.automation_support import bangkok
from tests.storage.loyalty_money_support import at_confirm
from tests.unit.rewards_support import coupon_rows, make_reward
from tests.unit.staff_support import ensure_branch, member_chat, staff_chat


async def _bought(app: App, clock: FrozenClock) -> tuple[Chat, Chat, str]:
    """On 3 March at 14:30 shop time Ploy buys a coupon valid for 1 day (to the end of 4
    March); an Asoke cashier (English)."""
    clock.set(bangkok(2026, 3, 3, 14, 30))
    await ensure_branch(app, "asoke")
    cashier = await staff_chat(app, "c1", "cashier", "asoke", language_code="en")
    chat, _ = await member_chat(app, points=100, locale="en")
    tea = await make_reward(app, cost=20, valid_days=1)
    await at_confirm(chat, tea.id)
    await chat.press(f"{FLOW}:ok:{tea.id}")
    [coupon] = await coupon_rows(app)
    return cashier, chat, coupon.code


async def test_a_coupon_is_used_at_23_59_on_its_last_shop_day(app: App, clock: FrozenClock) -> None:
    cashier, chat, code = await _bought(app, clock)
    clock.set(bangkok(2026, 3, 4, 23, 59))  # 16:59 UTC: a UTC day would have ended long ago
    await chat.say("/coupons")
    assert display_code(code) in chat.text()
    await cashier.say(f"/redeem {display_code(code)}")
    assert "Thai tea" in cashier.text()
    [coupon] = await coupon_rows(app)
    assert coupon.status == "redeemed"


async def test_a_coupon_is_refused_a_minute_after_the_shops_midnight_naming_its_last_day(
    app: App, clock: FrozenClock
) -> None:
    cashier, chat, code = await _bought(app, clock)
    clock.set(bangkok(2026, 3, 5, 0, 1))
    await cashier.say(f"/redeem {display_code(code)}")
    assert "4 Mar 2026" in cashier.text(), cashier.text()
    [coupon] = await coupon_rows(app)
    assert coupon.status == "issued"
    await chat.say("/coupons")
    assert display_code(code) not in chat.text()
    clock.advance(timedelta(days=1))
    await cashier.say(f"/redeem {display_code(code)}")
    assert [c.status for c in await coupon_rows(app)] == ["issued"]
