"""Language, help, inbox, strangers and keywords: the rest of the customer journey."""

from __future__ import annotations

from bot.bootstrap import App
from storage.models import InboxMessage, Member
from tests.chat import Chat
from tests.unit.journey_support import buttons, join, only_member, rows


async def test_language_switch_is_stored_and_applies_at_once(app: App) -> None:
    chat = Chat(app)
    await join(chat)
    replies = await chat.say("ภาษา")
    assert buttons(replies) == ["lang:th", "lang:en"]
    replies = await chat.press("lang:en")
    assert "English" in replies[0].text
    assert (await only_member(app)).locale == "en"
    assert "Your points: 50" in (await chat.say("/points"))[0].text


async def test_language_for_a_stranger_answers_in_that_language(app: App) -> None:
    replies = await Chat(app).press("lang:en")
    assert replies[0].text.startswith("Done")


async def test_language_chosen_during_signup_is_kept(app: App) -> None:
    chat = Chat(app)
    await chat.say("/start")
    await chat.press("lang:en")
    replies = await chat.press("su:join")
    assert "offers" in replies[0].text
    await chat.press("su:mkt:yes")
    await chat.say("Ploy")
    await chat.say("0812345678")
    await chat.say("1/5/1987")
    await chat.press("su:g:skip")
    assert (await only_member(app)).locale == "en"


async def test_member_command_from_a_stranger_offers_to_join(app: App) -> None:
    replies = await Chat(app).say("/card")
    assert buttons(replies) == ["cmd:start"]
    replies = await Chat(app).press("cmd:start")
    assert buttons(replies) == ["su:join", "su:later"]


async def test_free_text_goes_to_the_inbox(app: App) -> None:
    chat = Chat(app)
    await join(chat)
    replies = await chat.say("ร้านเปิดกี่โมงคะ")
    assert "ทางร้านจะตอบกลับ" in replies[0].text
    (message,) = await rows(app, InboxMessage)
    assert message.text == "ร้านเปิดกี่โมงคะ"
    assert message.member_id == (await only_member(app)).id


async def test_strangers_text_goes_to_the_inbox_without_a_member(app: App) -> None:
    await Chat(app).say("hello?")
    (message,) = await rows(app, InboxMessage)
    assert message.member_id is None


async def test_contact_outside_a_flow_is_answered_not_stored(app: App) -> None:
    replies = await Chat(app).share_contact("+66812345678")
    assert replies
    assert replies[0].text
    assert await rows(app, InboxMessage) == []
    assert await rows(app, Member) == []


async def test_unfollow_gets_no_reply(app: App) -> None:
    assert await Chat(app).unfollow() == []


async def test_help_lists_customer_commands_with_descriptions(app: App) -> None:
    text = (await Chat(app, language_code="en").say("help"))[0].text
    for line in ("/card — Your member card", "/stop — Stop receiving offers", "/cancel"):
        assert line in text


async def test_thai_keywords_work_without_slash(app: App) -> None:
    chat = Chat(app)
    await join(chat)
    assert (await chat.say("แต้ม"))[0].text.startswith("แต้มของคุณ")
    assert (await chat.say("บัตร"))[0].card is not None
    assert "ข้อมูลของคุณ" in (await chat.say("โปรไฟล์"))[0].text
    assert "รับโปรโมชัน" in (await chat.say("ช่วยเหลือ"))[0].text
    assert await rows(app, InboxMessage) == []


async def test_cancel_with_nothing_to_cancel(app: App) -> None:
    replies = await Chat(app).say("/cancel")
    assert "ไม่มีรายการ" in replies[0].text
