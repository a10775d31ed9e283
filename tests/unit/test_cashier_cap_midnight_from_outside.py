"""The cashier's daily cap counts the shop's day (Asia/Bangkok), not UTC's: two sales either
side of 07:00 Bangkok (UTC's midnight) are one shop day, two sales either side of Bangkok's
midnight are two. Driven through /sale; asserted on the sales and the approvals waiting."""

from __future__ import annotations

from bot.bootstrap import App
from bot.core.clock import FrozenClock
from tests.chat import Chat
from tests.domain.automation_support import bangkok
from tests.unit.sales_support import approvals, sales
from tests.unit.staff_support import ensure_branch, make_member, staff_chat


async def _counter(app: App) -> tuple[Chat, str]:
    await ensure_branch(app, "asoke")
    cashier = await staff_chat(app, "c1", "cashier", "asoke", language_code="en")
    await staff_chat(app, "own", "owner", language_code="en")
    ploy = await make_member(app, "Ploy", "0811111111", user_id="m1")
    return cashier, ploy.member_code


async def test_sales_either_side_of_utc_midnight_share_one_shop_day_under_the_cap(
    app: App, clock: FrozenClock
) -> None:
    cashier, code = await _counter(app)
    clock.set(bangkok(2026, 3, 3, 6, 30))  # 23:30 UTC on 2 March
    await cashier.say(f"/sale {code} 15,000 receipt=A")
    clock.set(bangkok(2026, 3, 3, 8, 0))  # 01:00 UTC on 3 March: the same shop day
    await cashier.say(f"/sale {code} 15,000 receipt=B")
    assert [s.receipt_no for s in await sales(app)] == ["A"]
    [waiting] = await approvals(app)
    assert (waiting.receipt_no, waiting.status) == ("B", "pending")


async def test_sales_either_side_of_the_shops_midnight_count_on_two_days(
    app: App, clock: FrozenClock
) -> None:
    cashier, code = await _counter(app)
    clock.set(bangkok(2026, 3, 3, 23, 50))
    await cashier.say(f"/sale {code} 15,000 receipt=A")
    clock.set(bangkok(2026, 3, 4, 0, 10))
    await cashier.say(f"/sale {code} 15,000 receipt=B")
    assert [s.receipt_no for s in await sales(app)] == ["A", "B"]
    assert await approvals(app) == []
