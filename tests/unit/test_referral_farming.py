"""Issue 15 item 8: the referral bonus cannot be farmed with second accounts.

Every sale here goes through a cashier's ``/sale`` (the path that pays the bonus); members sign
up through the chat where the condition depends on how they joined.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal

from bot.bootstrap import App
from bot.core.messages import Channel
from shop.loyalty import SETTINGS_KEY, load_rules
from storage.models import Member
from tests.chat import Chat
from tests.unit.journey_support import join, rows
from tests.unit.referral_support import (
    balance,
    first_sale_then_referral,
    join_sharing_contact,
    referral_entries,
    set_referrer,
)
from tests.unit.staff_support import ensure_branches, make_member, staff_chat

PLOY_PHONE = "081-234-5678"


async def cashier(app: App) -> Chat:
    await ensure_branches(app, ("asoke",))
    return await staff_chat(app, "c1", "cashier", "asoke", name="Kaew")


async def member_named(app: App, name: str) -> Member:
    [member] = await rows(app, Member, Member.name == name, Member.erased_at.is_(None))
    return member


async def paid_to(app: App, member: Member) -> list[int]:
    """The referral bonuses paid to ``member`` (as either side)."""
    return [delta for owner, delta, _ in await referral_entries(app) if owner == member.id]


async def test_a_second_account_with_a_typed_phone_buying_1_baht_earns_nothing(app: App) -> None:
    till = await cashier(app)
    ploy = await make_member(app, "Ploy", PLOY_PHONE, user_id="ploy")
    second = Chat(app, user_id="ploy-2", display_name="Nok")
    await join(second, name="Nok", phone="089-999-0000", start=f"/start ref_{ploy.member_code}")
    nok = await member_named(app, "Nok")
    assert nok.referred_by_code == ploy.member_code
    assert not nok.phone_verified
    await till.say(f"/sale {nok.member_code} 1 receipt=R1")
    await till.say(f"/sale {nok.member_code} 500 receipt=R2")  # a later sale pays nothing either
    assert await referral_entries(app) == []
    assert await balance(app, ploy.id) == 0


async def test_an_unverified_referee_whose_first_purchase_reaches_the_minimum_pays(
    app: App,
) -> None:
    till = await cashier(app)
    ploy = await make_member(app, "Ploy", PLOY_PHONE, user_id="ploy")
    chat = Chat(app, user_id="nok", display_name="Nok")
    await join(chat, name="Nok", phone="089-999-0000", start=f"/start ref_{ploy.member_code}")
    nok = await member_named(app, "Nok")
    await till.say(f"/sale {nok.member_code} 100 receipt=R1")
    assert await paid_to(app, ploy) == [100]
    assert await paid_to(app, nok) == [100]


async def test_a_verified_referee_pays_from_a_small_first_purchase(app: App) -> None:
    till = await cashier(app)
    ploy = await make_member(app, "Ploy", PLOY_PHONE, user_id="ploy")
    chat = Chat(app, user_id="nok", display_name="Nok")
    await join_sharing_contact(chat, "Nok", "+66899990000", f"/start ref_{ploy.member_code}")
    nok = await member_named(app, "Nok")
    assert nok.phone_verified
    await till.say(f"/sale {nok.member_code} 20 receipt=R1")
    assert await paid_to(app, ploy) == [100]


async def test_the_minimum_is_an_owner_setting(app: App) -> None:
    till = await cashier(app)
    await put_rules(app, referral_min_purchase="300")
    ploy = await make_member(app, "Ploy", PLOY_PHONE, user_id="ploy")
    nok = await make_member(app, "Nok", "089-999-0000", user_id="nok")
    await set_referrer(app, nok.id, ploy.member_code)
    await till.say(f"/sale {nok.member_code} 250 receipt=R1")
    assert await referral_entries(app) == []


async def put_rules(app: App, **values: object) -> None:
    async with app.uow() as uow:
        await uow.settings.put(SETTINGS_KEY, dict(values), app.clock.now())
        await uow.commit()


async def test_a_referrer_is_paid_at_most_the_monthly_cap_in_shop_time(app: App) -> None:
    till = await cashier(app)
    await put_rules(app, referral_monthly_cap=2)
    ploy = await make_member(app, "Ploy", PLOY_PHONE, user_id="ploy")
    friends = []
    for number in range(4):
        friend = await make_member(app, f"Friend{number}", f"089-999-000{number}")
        await set_referrer(app, friend.id, ploy.member_code)
        friends.append(friend)
    for number, friend in enumerate(friends[:3]):
        await till.say(f"/sale {friend.member_code} 150 receipt=R{number}")
    assert await paid_to(app, ploy) == [100, 100]
    assert [await paid_to(app, friend) for friend in friends[:3]] == [[100], [100], []]
    # 1 April 00:30 in Bangkok, still 31 March in UTC: a new month for the shop
    app.clock.set(datetime(2026, 3, 31, 17, 30, tzinfo=UTC))  # type: ignore[attr-defined]
    await till.say(f"/sale {friends[3].member_code} 150 receipt=R3")
    assert await paid_to(app, ploy) == [100, 100, 100]


async def test_a_phone_the_referrer_gave_up_does_not_verify_the_referee(app: App) -> None:
    """Ploy joins on LINE with her number typed, moves her profile to another number, and
    shares her real number from a second (Telegram) account: the two share a phone."""
    till = await cashier(app)
    line_id = "U" + "p" * 32
    ploy = await make_member(app, "Ploy", PLOY_PHONE, user_id=line_id, channel=Channel.LINE)
    ploy_chat = Chat(app, user_id=line_id, channel=Channel.LINE)
    await ploy_chat.press("prof:phone")
    await ploy_chat.say("089-111-2222")
    assert (await member_named(app, "Ploy")).phone == "+66891112222"
    second = Chat(app, user_id="ploy-tg", display_name="Nok")
    await join_sharing_contact(second, "Nok", "+66812345678", f"/start ref_{ploy.member_code}")
    nok = await member_named(app, "Nok")
    assert nok.phone == "+66812345678"
    assert nok.phone_verified
    await till.say(f"/sale {nok.member_code} 1 receipt=R1")
    assert await referral_entries(app) == []


async def test_a_referee_who_changed_their_verified_phone_needs_the_minimum(app: App) -> None:
    till = await cashier(app)
    ploy = await make_member(app, "Ploy", PLOY_PHONE, user_id="ploy")
    chat = Chat(app, user_id="nok", display_name="Nok")
    await join_sharing_contact(chat, "Nok", "+66899990000", f"/start ref_{ploy.member_code}")
    await chat.press("prof:phone")
    await chat.say("089-111-2222")
    nok = await member_named(app, "Nok")
    await till.say(f"/sale {nok.member_code} 1 receipt=R1")
    assert await referral_entries(app) == []


async def test_a_chat_account_that_was_the_referrers_earns_nothing(app: App) -> None:
    """A chat account belongs to one member; only erasure frees it, and an erased referrer's
    code pays nothing: the account that was Ploy's cannot join again as her referee."""
    till = await cashier(app)
    chat = Chat(app, user_id="ploy", display_name="Ploy")
    await join(chat, name="Ploy", phone=PLOY_PHONE)
    ploy = await member_named(app, "Ploy")
    await chat.say("/deleteme")
    await chat.press("del:yes")
    await join_sharing_contact(chat, "Nok", "+66812345678", f"/start ref_{ploy.member_code}")
    nok = await member_named(app, "Nok")
    await till.say(f"/sale {nok.member_code} {Decimal(150)} receipt=R1")
    assert await referral_entries(app) == []


async def test_the_owner_sees_and_changes_the_referral_limits_in_settings(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    await owner.say("/settings")
    await owner.press("set:rules")
    assert "Referral minimum first purchase: ฿100" in owner.text()
    assert "Referral bonuses per month: 5" in owner.text()
    await owner.press("set:rule:referral_min_purchase")
    await owner.say("250")
    await owner.press("set:rule:referral_monthly_cap")
    await owner.say("0")  # at least one a month: a shop that wants none sets 0 points instead
    assert "from 1 to 1,000" in owner.text()
    await owner.say("๓")
    async with app.uow() as uow:
        rules = await load_rules(uow)
    assert (rules.referral_min_purchase, rules.referral_monthly_cap) == (Decimal(250), 3)


async def test_concurrent_first_purchases_do_not_overshoot_the_cap(app: App) -> None:
    await ensure_branches(app, ("asoke",))
    await put_rules(app, referral_monthly_cap=1)
    ploy = await make_member(app, "Ploy", PLOY_PHONE, user_id="ploy")
    friends = []
    for number in range(4):
        friend = await make_member(app, f"Friend{number}", f"089-999-000{number}")
        await set_referrer(app, friend.id, ploy.member_code)
        friends.append(friend)
    results = await asyncio.gather(
        *(first_sale_then_referral(app, friend.id, "150") for friend in friends)
    )
    assert sum(result is not None for result in results) == 1
    assert await paid_to(app, ploy) == [100]
    for member in (ploy, *friends):
        async with app.uow() as uow:
            stored, summed = (
                await uow.points.balance(member.id),
                await uow.points.ledger_sum(member.id),
            )
        assert stored == summed >= 0


async def test_invite_states_the_terms(app: App) -> None:
    await put_rules(app, referral_min_purchase="150", referral_monthly_cap=3)
    await make_member(app, "Ploy", PLOY_PHONE, user_id="ploy", locale="en")
    chat = Chat(app, user_id="ploy", language_code="en")
    await chat.say("/invite")
    assert "at least ฿150" in chat.text()
    assert "up to 3 friends a month" in chat.text()
