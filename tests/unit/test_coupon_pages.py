"""/coupons a page at a time: a member holding more coupons than a page shows reaches every one
(its line, its code and its button to the QR) through the page buttons.

Before: /coupons read the member's first 20 coupons and gave buttons to the first 10, so a
member who had bought 25 rewards saw five of them nowhere in the chat and could open the QR of
ten."""

from __future__ import annotations

from datetime import timedelta

from bot.bootstrap import App
from shop.coupons import display_code
from tests.unit.journey_support import buttons
from tests.unit.rewards_support import make_coupon
from tests.unit.staff_support import member_chat


async def test_every_one_of_25_usable_coupons_opens_from_its_page(app: App) -> None:
    chat, member = await member_chat(app, points=0, locale="en")
    coupons = []
    for day in range(25):  # the soonest to expire listed first
        coupons.append(await make_coupon(app, member.id, valid=timedelta(days=30 + day)))
    first = await chat.say("/coupons")
    shown = [a for a in buttons(first) if a.startswith("cpn:") and "page" not in a]
    assert shown == [f"cpn:{coupon.id}" for coupon in coupons[:20]]
    assert "Coupons page 1 of 2." in first[-1].text
    [turn] = [a for a in buttons(first) if a.startswith("cpn:page:")]
    second = await chat.press(turn)
    text = second[-1].text
    assert all(display_code(coupon.code) in text for coupon in coupons[20:])
    assert display_code(coupons[0].code) not in text  # each page lists its own lines
    assert [a for a in buttons(second) if a.startswith("cpn:") and "page" not in a] == [
        f"cpn:{coupon.id}" for coupon in coupons[20:]
    ]
    await chat.press(f"cpn:{coupons[24].id}")
    assert display_code(coupons[24].code) in chat.text()
    assert chat.last[0].attachment is not None  # the QR


async def test_a_stale_or_forged_coupon_page_opens_a_page_that_exists(app: App) -> None:
    chat, member = await member_chat(app, points=0, locale="en")
    for _ in range(3):
        await make_coupon(app, member.id)
    for data in ("cpn:page:7", "cpn:page:-1", "cpn:page:x"):
        page = await chat.press(data)
        assert len([a for a in buttons(page) if a.startswith("cpn:")]) == 3, data
        assert "page" not in page[-1].text  # three coupons: one page, no page line
