"""Imported members (no chat account yet) are taken over with proof: the person's own phone
shared through Telegram, or a claim code from staff — never a typed phone number."""

from __future__ import annotations

from bot.bootstrap import App
from bot.core.messages import Channel
from storage.models import ChannelIdentity, Member, OneTimeCode
from tests.chat import Chat
from tests.unit.journey_support import buttons, consents, rows
from tests.unit.referral_support import balance, count_members
from tests.unit.staff_support import make_member, member_chat, staff_chat

LINE_USER = "U" + "e" * 32


async def imported(app: App) -> Member:
    """A member from the POS import: known phone, name and birthday, points, no chat account."""
    return await make_member(app, "Ploy S.", "081-234-5678", points=300)


async def start_signup(chat: Chat, name: str = "Ploy") -> None:
    await chat.say("/start")
    await chat.press("su:join")
    await chat.press("su:mkt:yes")
    await chat.say(name)


async def linked_identity(app: App, member_id: int) -> list[tuple[str, str]]:
    found = await rows(app, ChannelIdentity, ChannelIdentity.member_id == member_id)
    return [(identity.channel, identity.user_id) for identity in found]


async def claim_code(app: App, member: Member) -> str:
    cashier = await staff_chat(app, "cashier1", "cashier", language_code="en")
    await cashier.say("/customer 0812345678")
    assert f"cust:claim:{member.id}" in buttons(cashier.last)
    await cashier.press(f"cust:claim:{member.id}")
    return cashier.last[-1].text.removeprefix("/join ")


async def test_own_contact_share_takes_over_the_imported_member(app: App) -> None:
    ploy = await imported(app)
    chat = Chat(app, user_id="tg1")
    await start_signup(chat, name="Ploy Typed")
    await chat.share_contact("66812345678", own=True)
    await chat.press("su:g:female")  # the only field the shop did not know
    assert await count_members(app) == 1
    assert await linked_identity(app, ploy.id) == [("telegram", "tg1")]
    member = (await rows(app, Member))[0]
    assert member.name == "Ploy S."  # the shop's record is kept; missing fields are filled
    assert member.gender == "female"
    assert member.phone_verified
    assert await balance(app, ploy.id) == 300 + 50  # their points, plus the welcome points
    assert ("membership", True, "membership-v1") in await consents(app, ploy.id)


async def test_a_typed_phone_of_an_imported_member_is_not_enough(app: App) -> None:
    ploy = await imported(app)
    chat = Chat(app, user_id="tg1", language_code="en")
    await start_signup(chat)
    await chat.say("081-234-5678")
    assert "/join" in chat.text()
    assert "already on file" in chat.text()
    assert await linked_identity(app, ploy.id) == []
    assert await count_members(app) == 1


async def test_a_forwarded_contact_is_not_enough(app: App) -> None:
    ploy = await imported(app)
    chat = Chat(app, user_id="tg1", language_code="en")
    await start_signup(chat)
    await chat.share_contact("+66812345678", own=False)
    assert await linked_identity(app, ploy.id) == []


async def test_a_claim_code_from_staff_takes_over_the_member_on_line(app: App) -> None:
    ploy = await imported(app)
    code = await claim_code(app, ploy)
    line = Chat(app, user_id=LINE_USER, channel=Channel.LINE, language_code="en")
    await line.say(f"join {code}")
    assert "Ploy S." in line.text()
    await line.press("su:join")
    await line.press("su:mkt:no")
    # name, phone and birthday are known: only the gender is asked
    assert any(action.startswith("su:g:") for action in buttons(line.last))
    await line.press("su:g:skip")
    assert await linked_identity(app, ploy.id) == [("line", LINE_USER)]
    assert await count_members(app) == 1
    member = (await rows(app, Member))[0]
    assert not member.phone_verified
    assert member.marketing_opt_in is False


async def test_a_claim_code_works_once(app: App) -> None:
    ploy = await imported(app)
    code = await claim_code(app, ploy)
    first = Chat(app, user_id="tg1")
    await first.say(f"/join {code}")
    await first.press("su:join")
    await first.press("su:mkt:yes")
    await first.press("su:g:skip")
    second = Chat(app, user_id=LINE_USER, channel=Channel.LINE, language_code="en")
    await second.say(f"/join {code}")
    assert "does not work" in second.text()
    assert await linked_identity(app, ploy.id) == [("telegram", "tg1")]


async def test_a_claim_code_sent_mid_sign_up_skips_what_the_shop_knows(app: App) -> None:
    ploy = await imported(app)
    code = await claim_code(app, ploy)
    chat = Chat(app, user_id="tg1")
    await start_signup(chat)  # now at the phone step
    await chat.say(f"/join {code}")
    assert any(action.startswith("su:g:") for action in buttons(chat.last))
    await chat.press("su:g:male")
    assert await linked_identity(app, ploy.id) == [("telegram", "tg1")]
    assert await count_members(app) == 1


async def test_a_customer_cannot_make_a_claim_code_with_a_forged_button(app: App) -> None:
    ploy = await imported(app)
    chat, _ = await member_chat(app, "Nok", "089-999-0000", user_id="nok")
    await chat.press(f"cust:claim:{ploy.id}")
    assert await rows(app, OneTimeCode) == []


async def test_members_who_already_chat_get_no_claim_button(app: App) -> None:
    await make_member(app, "Ploy", "081-234-5678", user_id="tg1")
    cashier = await staff_chat(app, "cashier1", "cashier")
    await cashier.say("/customer 0812345678")
    assert not any(action.startswith("cust:claim:") for action in buttons(cashier.last))


async def test_a_new_member_sharing_their_own_phone_has_it_verified(app: App) -> None:
    chat = Chat(app, user_id="tg1")
    await start_signup(chat)
    await chat.share_contact("+66 81 234 5678", own=True)
    await chat.say("1/5/2530")
    await chat.press("su:g:skip")
    [member] = await rows(app, Member)
    assert member.phone == "+66812345678"
    assert member.phone_verified


async def test_a_typed_phone_of_a_new_member_is_not_verified(app: App) -> None:
    chat = Chat(app, user_id="tg1")
    await start_signup(chat)
    await chat.say("081-234-5678")
    await chat.say("1/5/2530")
    await chat.press("su:g:skip")
    [member] = await rows(app, Member)
    assert not member.phone_verified
