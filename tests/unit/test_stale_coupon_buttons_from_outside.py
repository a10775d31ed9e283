"""A coupon's button pressed after the coupon stopped being usable: the /coupons list's button
(``cpn:<id>``) after the cashier used the coupon, or after it expired, and the promotion's
button (``cmp:<id>``) after its one coupon was used. The button is from a list that was true
when it was sent; the answer must be true now: not the coupon with its QR and "show this to the
cashier" (the cashier will refuse it), but that it was used or has expired, in the member's
language."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.bootstrap import App
from bot.core.clock import FrozenClock
from bot.core.messages import Reply
from bot.i18n import t
from tests.chat import Chat
from tests.domain.campaign_support import launch_now, make_campaign
from tests.unit.rewards_support import coupon_rows, make_coupon
from tests.unit.staff_support import ensure_branches, member_chat, staff_chat


def _show_to_cashier(locale: str) -> str:
    """The last line of a usable coupon's message: "show this QR code or tell the code"."""
    shown = t(locale, "coupons.issued", title="x", code="x", date="x", branches="x")
    return shown.splitlines()[-1]


def _offered_as_usable(replies: list[Reply], locale: str) -> bool:
    return any(
        reply.attachment is not None or _show_to_cashier(locale) in reply.text for reply in replies
    )


async def _use(app: App, code: str) -> None:
    cashier = await staff_chat(app, "c1", "cashier", "asoke", language_code="en")
    await cashier.say(f"/redeem {code}")
    assert [c.status for c in await coupon_rows(app)] == ["redeemed"], cashier.text()


async def _member(app: App, locale: str) -> tuple[Chat, int]:
    await ensure_branches(app, ("asoke",))
    chat, ploy = await member_chat(app, locale=locale)
    return chat, ploy.id


@pytest.mark.parametrize("locale", ["th", "en"])
async def test_a_coupons_button_pressed_after_the_coupon_was_used_says_it_was_used(
    app: App, locale: str
) -> None:
    chat, member_id = await _member(app, locale)
    coupon = await make_coupon(app, member_id)
    await chat.say("/coupons")
    await _use(app, coupon.code)
    await chat.press(f"cpn:{coupon.id}")
    assert chat.last, "no answer"
    assert not _offered_as_usable(chat.last, locale), chat.text()


async def test_a_coupons_button_pressed_after_the_coupon_expired_says_it_expired(
    app: App, clock: FrozenClock
) -> None:
    chat, member_id = await _member(app, "en")
    coupon = await make_coupon(app, member_id)
    await chat.say("/coupons")
    clock.advance(timedelta(days=400))
    await chat.press(f"cpn:{coupon.id}")
    assert chat.last, "no answer"
    assert not _offered_as_usable(chat.last, "en"), chat.text()


async def test_a_promotion_pressed_again_after_its_coupon_was_used_does_not_offer_it(
    app: App,
) -> None:
    chat, _ = await _member(app, "en")
    campaign = await make_campaign(app, offer={"kind": "percent", "value": "20"}, holdout_pct=0)
    await launch_now(app, campaign.id)
    await chat.press(f"cmp:{campaign.id}")
    [coupon] = await coupon_rows(app)
    await _use(app, coupon.code)
    await chat.press(f"cmp:{campaign.id}")  # one coupon per member: it is used
    assert chat.last, "no answer"
    assert not _offered_as_usable(chat.last, "en"), chat.text()
    assert len(await coupon_rows(app)) == 1


async def test_a_coupons_button_of_a_usable_coupon_shows_it_with_its_qr(app: App) -> None:
    chat, member_id = await _member(app, "en")
    coupon = await make_coupon(app, member_id)
    await chat.say("/coupons")
    await chat.press(f"cpn:{coupon.id}")
    assert _offered_as_usable(chat.last, "en"), chat.text()
