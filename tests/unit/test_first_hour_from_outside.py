"""A new shop's first hour, in Thai and in English, as the README's own steps lead its owner:
claim with the server's code, the set-up, a reward in /settings, a cashier invited and claimed in
the chat, the first member, the first sale at the counter and the first coupon redeemed — and
what the owner tries on the way."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from bot.bootstrap import App
from bot.cli_staff import invite_lines
from bot.i18n import t
from storage.models import Coupon, Sale
from tests.chat import Chat
from tests.unit.journey_support import rows

PHONE = "081-234-5678"


async def _owner_with_a_shop(app: App, lang: str) -> Chat:
    code = (await invite_lines(app, "owner", None, 7))[-1]
    owner = Chat(app, user_id="o1", language_code=lang, display_name="แดง 🍵")
    await owner.say(f"/claim {code}")
    await owner.say("ชาไทย ป้าแดง")
    await owner.say("Auntie Daeng's Tea")
    await owner.say("asoke")
    await owner.say("อโศก")
    await owner.say("Asoke")
    await owner.press("setup:done")
    await owner.press("setup:keep")
    assert owner.text() == t(lang, "setup.done")
    return owner


def _actions(chat: Chat) -> list[str]:
    return [button.action for reply in chat.last for button in reply.buttons]


async def _add_reward(owner: Chat) -> None:
    await owner.say("/settings")
    await owner.press("set:rw")
    await owner.press("set:rwadd")
    for answer in ("ชาไทยฟรี", "Free Thai tea", "50", "30"):
        await owner.say(answer)
    for action in ("setv:skip", "setv:skip", "setv:all", "setv:d30", "setv:save"):
        assert action in _actions(owner), (action, owner.text())
        await owner.press(action)


async def _join(app: App, lang: str) -> Chat:
    member = Chat(app, user_id="m1", language_code=lang, display_name="พลอย 🌸")
    await member.say("/start")
    for step in ("su:join", "su:mkt:yes"):
        await member.press(step)
    await member.say("พลอย 🌸")
    await member.say(PHONE)
    await member.say("01/05/2530")
    await member.press("su:g:skip")
    await member.press("su:b:skip")
    return member


@pytest.mark.parametrize("lang", ["th", "en"])
async def test_claim_set_up_invite_sell_and_redeem_in_the_first_hour(app: App, lang: str) -> None:
    owner = await _owner_with_a_shop(app, lang)
    await _add_reward(owner)
    await owner.say("/staff invite cashier asoke")
    [claim] = re.findall(r"/claim \S+", owner.text())
    cashier = Chat(app, user_id="c1", language_code=lang, display_name="นก")
    await cashier.say(claim)
    assert "/sale" in cashier.text()

    member = await _join(app, lang)
    await cashier.say(f"/sale {PHONE} 1250")  # a cashier of one branch needs no branch=
    [sale] = await rows(app, Sale)
    assert sale.amount == Decimal(1250)

    await member.say("/rewards")
    assert "rw:pick:1" in _actions(member)
    await member.press("rw:pick:1")
    await member.press("rw:ok:1")
    [coupon] = await rows(app, Coupon)
    shown = re.search(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{5}", member.text())
    assert shown is not None
    assert shown.group().replace("-", "") == coupon.code
    await cashier.say(f"/redeem {shown.group()}")  # as the member shows it at the counter
    [coupon] = await rows(app, Coupon)
    assert coupon.status == "redeemed"
    internal = t(lang, "error.internal")
    assert internal not in owner.text() + cashier.text() + member.text()


@pytest.mark.parametrize("lang", ["th", "en"])
async def test_the_set_ups_example_sale_in_an_empty_shop_says_why_it_cannot_be_recorded(
    app: App, lang: str
) -> None:
    """The set-up ends with "Record a sale with /sale PHONE AMOUNT (like /sale 081-234-5678
    120)". The owner does exactly that on day one, before anyone joined: the answer must say the
    number is not a member (yet), not ask for a phone number, which is what was typed."""
    owner = await _owner_with_a_shop(app, lang)
    assert f"/sale {PHONE} 120" in t(lang, "setup.done")
    await owner.say(f"/sale {PHONE} 120")
    assert await rows(app, Sale) == []
    assert owner.text() != t(lang, "error.member_not_found", query=PHONE)
    assert owner.text() == t(lang, "error.no_member_with_phone", query=PHONE)
    assert "/start" in owner.text()  # how a customer joins
