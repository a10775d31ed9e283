"""/profile: viewing, and editing each field with sign-up's validation."""

from __future__ import annotations

from datetime import date

from bot.bootstrap import App
from storage.models import AuditEntry
from tests.chat import Chat
from tests.unit.journey_support import add_branches, buttons, join, only_member, rows


async def test_profile_shows_fields_with_thai_birthday_and_edit_buttons(app: App) -> None:
    chat = Chat(app)
    await join(chat, name='<b>&"x"</b>')
    replies = await chat.say("/profile")
    text = replies[0].text
    assert 'ชื่อ: <b>&"x"</b>' in text
    assert "081-234-5678" in text  # as staff see it too
    assert "1 พ.ค. 2530" in text
    assert "หญิง" in text
    assert "รับ (ยกเลิกด้วย /stop)" in text
    assert buttons(replies) == [
        "prof:name",
        "prof:phone",
        "prof:birthday",
        "prof:gender",
        "prof:branch",
    ]


async def test_edit_phone_validates_stores_and_audits_without_the_value(app: App) -> None:
    chat = Chat(app, language_code="en")
    await join(chat)
    await chat.press("prof:phone")
    await chat.say("999")
    assert "Thai phone number" in chat.last[0].text
    await chat.say("๐๘๙-๙๙๙-๙๙๙๙")
    assert "Saved." in chat.text()
    assert (await only_member(app)).phone == "+66899999999"
    (entry,) = await rows(app, AuditEntry, AuditEntry.action == "member.profile_changed")
    assert entry.details == {"field": "phone"}


async def test_edit_birthday_and_gender(app: App) -> None:
    chat = Chat(app)
    await join(chat)
    await chat.press("prof:birthday")
    await chat.say("2/6/2531")
    await chat.press("prof:gender")
    await chat.press("pf:g:skip")
    member = await only_member(app)
    assert (member.birthday, member.gender) == (date(1988, 6, 2), None)


async def test_edit_branch_only_accepts_an_active_branch(app: App) -> None:
    branch_ids = await add_branches(app)
    chat = Chat(app)
    await join(chat)
    await chat.press("prof:branch")
    await chat.press("pf:b:9999")
    assert "เลือกจากปุ่ม" in chat.last[0].text
    await chat.press(f"pf:b:{branch_ids['asoke']}")
    assert (await only_member(app)).home_branch_id == branch_ids["asoke"]


async def test_edit_buttons_are_refused_to_non_members(app: App) -> None:
    replies = await Chat(app).press("prof:name")
    assert buttons(replies) == ["cmd:start"]
