"""Sign-up through the bus: from /start or follow to a member row, consents, points and card."""

from __future__ import annotations

from datetime import date

import pytest

from bot.bootstrap import App
from bot.core.messages import ButtonKind
from handlers.customer.signup import MARKETING_WORDING, MEMBERSHIP_WORDING, parse_start_payload
from storage.models import AuditEntry, ChannelIdentity, Member
from tests.chat import Chat
from tests.unit.journey_support import (
    add_branches,
    buttons,
    consents,
    join,
    only_member,
    points,
    rows,
)


async def test_follow_shows_welcome_and_membership_notice_with_version(app: App) -> None:
    chat = Chat(app)
    replies = await chat.follow()
    assert app.settings.shop_name in replies[0].text
    assert MEMBERSHIP_WORDING in replies[1].text
    assert buttons(replies) == ["su:join", "su:later"]


async def test_whole_signup_stores_the_member_and_shows_the_card(app: App) -> None:
    branch_ids = await add_branches(app)
    chat = Chat(app)
    replies = await join(chat, branch=str(branch_ids["ratchada"]))

    member = await only_member(app)
    assert member.name == "Ploy"
    assert member.phone == "+66812345678"
    assert member.birthday == date(1987, 5, 1)
    assert member.gender == "female"
    assert member.home_branch_id == branch_ids["ratchada"]
    assert member.marketing_opt_in is True
    assert member.locale == "th"
    assert await consents(app, member.id) == [
        ("membership", True, MEMBERSHIP_WORDING),
        ("marketing", True, MARKETING_WORDING),
    ]
    assert await points(app, member.id) == [(50, "welcome")]
    (identity,) = await rows(app, ChannelIdentity)
    assert identity.member_id == member.id
    assert [a.action for a in await rows(app, AuditEntry)] == ["member.joined"]
    assert "50" in replies[0].text
    card = replies[1].card
    assert card is not None
    assert card.member_code == member.member_code
    assert card.qr_payload == f"CRM:{member.member_code}"
    assert card.qr_png.startswith(b"\x89PNG")
    assert member.member_code in replies[1].text


async def test_marketing_no_records_a_refusal_and_no_opt_in(app: App) -> None:
    await join(Chat(app), marketing=False)
    member = await only_member(app)
    assert member.marketing_opt_in is False
    assert ("marketing", False, MARKETING_WORDING) in await consents(app, member.id)


async def test_without_branches_the_branch_step_is_skipped(app: App) -> None:
    chat = Chat(app)
    replies = await join(chat)
    assert not any(a.startswith("su:b:") for a in buttons(replies))
    assert (await only_member(app)).home_branch_id is None


async def test_not_now_ends_the_flow_with_a_join_button(app: App) -> None:
    chat = Chat(app)
    await chat.say("/start")
    replies = await chat.press("su:later")
    assert buttons(replies) == ["cmd:start"]
    await chat.say("hello")
    assert await rows(app, Member) == []


async def test_invalid_phone_reasks_the_phone_step_and_stores_nothing(app: App) -> None:
    chat = Chat(app, language_code="en")
    await chat.say("/start")
    await chat.press("su:join")
    await chat.press("su:mkt:yes")
    await chat.say("Ploy")
    replies = await chat.say("12345")
    assert "Thai phone number" in replies[0].text
    assert any(b.kind is ButtonKind.SHARE_CONTACT for r in replies for b in r.buttons)
    replies = await chat.say("0812345678")
    assert "birthday" in chat.text().lower()
    assert await rows(app, Member) == []


async def test_invalid_birthday_reasks_the_birthday_step(app: App) -> None:
    chat = Chat(app, language_code="en")
    await chat.say("/start")
    await chat.press("su:join")
    await chat.press("su:mkt:no")
    await chat.say("Ploy")
    await chat.say("0812345678")
    await chat.say("31/02/2530")
    assert "couldn't read that date" in chat.last[0].text
    await chat.say("01/01/2999")
    assert "future" in chat.last[0].text
    await chat.say("๐๑/๐๕/๒๕๓๐")
    await chat.press("su:g:skip")
    member = await only_member(app)
    assert member.birthday == date(1987, 5, 1)
    assert member.gender is None


async def test_forwarded_contact_is_refused_and_own_contact_accepted(app: App) -> None:
    chat = Chat(app)
    await chat.say("/start")
    await chat.press("su:join")
    await chat.press("su:mkt:yes")
    await chat.say("Ploy")
    await chat.share_contact("66899999999", own=False)
    assert "ไม่ใช่เบอร์ของคุณเอง" in chat.last[0].text
    await chat.share_contact("66812345678", own=True)
    await chat.say("1/5/1987")
    await chat.press("su:g:male")
    assert (await only_member(app)).phone == "+66812345678"


async def test_display_name_button_uses_the_platform_name(app: App) -> None:
    chat = Chat(app, display_name="พลอย 🌸")
    await chat.say("/start")
    await chat.press("su:join")
    replies = await chat.press("su:mkt:yes")
    assert "su:dn" in buttons(replies)
    await chat.press("su:dn")
    await chat.say("0812345678")
    await chat.say("1/5/1987")
    await chat.press("su:g:other")
    assert (await only_member(app)).name == "พลอย 🌸"


async def test_very_long_name_is_capped_and_markup_is_stored_as_written(app: App) -> None:
    await join(Chat(app, user_id="a"), name="ก" * 10_000, phone="0811111111")
    await join(Chat(app, user_id="b"), name='<b>&"x"</b>', phone="0822222222")
    names = sorted(m.name for m in await rows(app, Member))
    assert names == ['<b>&"x"</b>', "ก" * 100]


async def test_referral_payload_is_stored_at_signup(app: App) -> None:
    await join(Chat(app, user_id="a"))
    referrer = await only_member(app)
    await join(
        Chat(app, user_id="b"), phone="0899999999", start=f"/start ref_{referrer.member_code}"
    )
    (newcomer,) = await rows(app, Member, Member.id != referrer.id)
    assert newcomer.referred_by_code == referrer.member_code


async def test_branch_payload_is_stored_as_signup_source(app: App) -> None:
    await join(Chat(app), start="/start br_Asoke")
    assert (await only_member(app)).signup_source == "branch:asoke"


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ("cmp_12", {"source": "campaign:12"}),
        ("br_asoke", {"source": "branch:asoke"}),
        ("ref_ab23cd45", {"ref": "AB23CD45"}),
        ("ref_" + "A" * 61, {}),
        ("br_a b", {}),
        ("x" * 65, {}),
        ("hello", {}),
        ("", {}),
    ],
)
def test_start_payloads(payload: str, expected: dict[str, str]) -> None:
    assert parse_start_payload(payload) == expected


async def test_thai_keyword_starts_signup_without_slash(app: App) -> None:
    replies = await Chat(app).say("สมัครสมาชิก")
    assert buttons(replies) == ["su:join", "su:later"]


async def test_start_from_a_member_shows_the_main_menu(app: App) -> None:
    chat = Chat(app)
    await join(chat)
    replies = await chat.say("/start")
    assert buttons(replies) == [
        "cmd:card",
        "cmd:points",
        "cmd:rewards",
        "cmd:history",
        "cmd:profile",
        "cmd:help",
    ]
    assert "Ploy" in replies[0].text


async def test_cancel_keyword_clears_the_signup(app: App) -> None:
    chat = Chat(app)
    await chat.say("/start")
    await chat.press("su:join")
    await chat.say("ยกเลิก")
    assert "ยกเลิก" in chat.text()
    replies = await chat.press("su:mkt:yes")
    assert "หมดอายุ" in replies[0].text


async def test_phone_taken_while_signing_up_still_joins_with_the_number_unlinked(
    app: App,
) -> None:
    late = Chat(app, user_id="late")
    await late.say("/start")
    await late.press("su:join")
    await late.press("su:mkt:yes")
    await late.say("Late")
    await late.say("0812345678")
    await late.say("1/5/1987")
    await join(Chat(app, user_id="early"))  # takes the number first
    replies = await late.press("su:g:skip")
    assert "Late" in replies[0].text  # welcomed like anyone (issue 15, item 4)
    members = {m.name: (m.phone, m.phone_unlinked) for m in await rows(app, Member)}
    assert members == {"Ploy": ("+66812345678", None), "Late": (None, "+66812345678")}
