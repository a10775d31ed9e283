"""Referral: /invite, joining with a friend's code, and the bonus paid exactly once."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from decimal import Decimal

import pytest

from bot.bootstrap import App
from bot.config import Settings
from bot.core.messages import Channel, Identity, Inbound, InboundKind
from shop.ledger import record_sale
from shop.loyalty import load_rules
from shop.referral import pay_referral_if_first_purchase
from storage.models import Member
from tests.chat import Chat
from tests.unit.journey_support import join, rows
from tests.unit.referral_support import (
    add_sale,
    balance,
    count_members,
    first_sale_then_referral,
    join_sharing_contact,
    referral_entries,
    set_referrer,
)
from tests.unit.staff_support import ensure_branch, make_member, member_chat, outbox_rows
from wording.referral import referral_notices


@pytest.fixture
def settings() -> Settings:
    return Settings(
        CHATCRM_DATABASE_URL="sqlite+aiosqlite:///unused.db",
        TELEGRAM_BOT_USERNAME="@teashop_bot",
        LINE_BASIC_ID="@teashop",
        _env_file=None,  # type: ignore[call-arg]
    )


async def referred_pair(app: App) -> tuple[Member, Member]:
    """Ploy (the referrer) and Nok, who joined on Telegram with Ploy's deep link, sharing her
    own contact (a verified phone: any first purchase earns the bonus)."""
    ploy = await make_member(app, "Ploy", "081-234-5678", user_id="ploy", points=0)
    nok_chat = Chat(app, user_id="nok", display_name="Nok")
    await join_sharing_contact(nok_chat, "Nok", "+66899990000", f"/start ref_{ploy.member_code}")
    nok = next(m for m in await rows(app, Member) if m.name == "Nok")
    return ploy, nok


async def test_invite_shows_the_code_and_links_for_both_channels(app: App) -> None:
    chat, ploy = await member_chat(app, locale="en")
    await chat.say("/invite")
    text = chat.text()
    assert f"https://t.me/teashop_bot?start=ref_{ploy.member_code}" in text
    assert f"https://line.me/R/oaMessage/%40teashop/?ref%20{ploy.member_code}" in text
    assert f'"ref {ploy.member_code}"' in text
    assert "100 points" in text


async def test_joining_through_the_deep_link_records_the_referrer(app: App) -> None:
    ploy, nok = await referred_pair(app)
    assert nok.referred_by_code == ploy.member_code


async def test_first_purchase_pays_both_members_and_tells_them(app: App) -> None:
    ploy, nok = await referred_pair(app)
    nok_before = await balance(app, nok.id)
    payout = await first_sale_then_referral(app, nok.id)
    assert payout is not None
    assert payout.points == 100
    assert await referral_entries(app) == [
        (nok.id, 100, f"referral:{nok.id}:referee"),
        (ploy.id, 100, f"referral:{nok.id}:referrer"),
    ]
    assert await balance(app, nok.id) == nok_before + 100
    assert await balance(app, ploy.id) == 100
    sent = {row.dedupe_key: row.user_id for row in await outbox_rows(app, "referral:")}
    assert sent == {f"referral:{nok.id}:referee": "nok", f"referral:{nok.id}:referrer": "ploy"}


async def test_the_same_first_purchase_handled_twice_pays_once(app: App) -> None:
    _, nok = await referred_pair(app)
    branch_id = await ensure_branch(app, "asoke")
    async with app.uow() as uow:
        member = await uow.members.get(nok.id)
        assert member is not None
        sale = await add_sale(uow, nok.id, branch_id, "120", app.clock.now())
        first = await pay_referral_if_first_purchase(
            uow, member, sale, app.clock.now(), notices=referral_notices
        )
        again = await pay_referral_if_first_purchase(
            uow, member, sale, app.clock.now(), notices=referral_notices
        )
        await uow.commit()
    assert first is not None
    assert again is None
    assert len(await referral_entries(app)) == 2


async def test_a_later_sale_pays_nothing(app: App) -> None:
    _, nok = await referred_pair(app)
    await first_sale_then_referral(app, nok.id)
    assert await first_sale_then_referral(app, nok.id) is None
    assert len(await referral_entries(app)) == 2


async def test_two_first_sales_recorded_at_once_pay_once(app: App) -> None:
    ploy, nok = await referred_pair(app)
    await ensure_branch(app, "asoke")
    results = await asyncio.gather(
        first_sale_then_referral(app, nok.id, "100"), first_sale_then_referral(app, nok.id, "80")
    )
    assert sum(result is not None for result in results) == 1
    assert len(await referral_entries(app)) == 2
    assert await balance(app, ploy.id) == 100


async def test_a_redelivered_signup_event_creates_no_second_member(app: App) -> None:
    ploy = await make_member(app, "Ploy", "081-234-5678", user_id="ploy")
    chat = Chat(app, user_id="nok", display_name="Nok")
    await join(chat, name="Nok", phone="089-999-0000", start=f"/start ref_{ploy.member_code}")
    last = Inbound(
        identity=Identity(Channel.TELEGRAM, "nok"),
        kind=InboundKind.ACTION,
        received_at=app.clock.now(),
        event_id="tg:redelivered",
        action="su:g:female",
    )
    await app.bus.handle(last)
    assert await app.bus.handle(replace(last)) == []
    assert await count_members(app) == 2


async def test_a_member_referring_themselves_gets_nothing(app: App) -> None:
    ploy = await make_member(app, "Ploy", "081-234-5678", user_id="ploy")
    await set_referrer(app, ploy.id, ploy.member_code)
    assert await first_sale_then_referral(app, ploy.id) is None
    assert await referral_entries(app) == []


async def test_a_referral_loop_pays_nothing(app: App) -> None:
    ploy = await make_member(app, "Ploy", "081-234-5678", user_id="ploy")
    nok = await make_member(app, "Nok", "089-999-0000", user_id="nok")
    await set_referrer(app, ploy.id, nok.member_code)
    await set_referrer(app, nok.id, ploy.member_code)
    assert await first_sale_then_referral(app, nok.id) is None
    assert await referral_entries(app) == []


async def test_a_line_user_types_the_code_during_sign_up(app: App) -> None:
    ploy = await make_member(app, "Ploy", "081-234-5678", user_id="ploy")
    chat = Chat(app, user_id="U" + "a" * 32, channel=Channel.LINE, display_name="Nok")
    await chat.follow()
    await chat.press("su:join")
    await chat.say(f"ref {ploy.member_code.lower()}")
    assert any(b.action == "su:mkt:yes" for r in chat.last for b in r.buttons)  # re-asked
    await chat.press("su:mkt:no")
    await chat.say("Nok")
    await chat.say("089-999-0000")
    await chat.say("1/5/2535")
    await chat.press("su:g:skip")
    nok = next(m for m in await rows(app, Member) if m.name == "Nok")
    assert nok.referred_by_code == ploy.member_code


async def test_typing_a_code_before_sign_up_starts_it_with_the_referral(app: App) -> None:
    ploy = await make_member(app, "Ploy", "081-234-5678", user_id="ploy")
    chat = Chat(app, user_id="nok", display_name="Nok")
    await join(chat, name="Nok", phone="089-999-0000", start=f"ref {ploy.member_code}")
    assert (await rows(app, Member, Member.name == "Nok"))[0].referred_by_code == ploy.member_code


async def test_an_unknown_code_is_refused_and_nothing_starts(app: App) -> None:
    chat = Chat(app, user_id="nok", language_code="en")
    await chat.say("ref ZZZZ2222")
    assert "not found" in chat.text()
    await chat.say("hello")  # no sign-up waiting for an answer: it goes to the inbox
    assert await count_members(app) == 0


async def test_a_member_typing_a_code_is_told_it_is_for_newcomers(app: App) -> None:
    chat, _ = await member_chat(app, locale="en")
    other = await make_member(app, "Nok", "089-999-0000")
    await chat.say(f"ref {other.member_code}")
    assert "already a member" in chat.text()
    assert (await only_member_named(app, "Ploy")).referred_by_code is None


async def only_member_named(app: App, name: str) -> Member:
    found = await rows(app, Member, Member.name == name)
    assert len(found) == 1
    return found[0]


async def test_a_receipt_recorded_twice_through_record_sale_pays_once(app: App) -> None:
    ploy, nok = await referred_pair(app)
    await ensure_branch(app, "asoke")
    for _ in range(2):  # the cashier's /sale delivered twice, as two events
        async with app.uow() as uow:
            member = await uow.members.get(nok.id)
            branch = await uow.branches.by_code("asoke")
            assert member is not None
            assert branch is not None
            result = await record_sale(
                uow,
                member=member,
                amount=Decimal("250"),
                branch=branch,
                receipt_no="POS-1",
                staff=None,
                now=app.clock.now(),
                rules=await load_rules(uow),
            )
            await pay_referral_if_first_purchase(
                uow, member, result.sale, app.clock.now(), notices=referral_notices
            )
            await uow.commit()
    assert len(await referral_entries(app)) == 2
    assert await balance(app, ploy.id) == 100
