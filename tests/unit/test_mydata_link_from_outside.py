"""/mydata and /link from the member's side: what leaves the shop, and what a code can do."""

from __future__ import annotations

import json
from typing import Any

from bot.bootstrap import App
from bot.core.messages import Channel
from storage.models import ChannelIdentity, Member
from tests.chat import Chat
from tests.unit.journey_support import join, rows
from tests.unit.sales_support import balance
from tests.unit.staff_support import ensure_branches, member_chat, staff_chat

LINE_USER = "U" + "e" * 32


def _line(app: App, user_id: str = LINE_USER) -> Chat:
    return Chat(app, user_id=user_id, channel=Channel.LINE, language_code="en", display_name="P")


async def _export(chat: Chat) -> dict[str, Any]:
    replies = await chat.say("/mydata")
    attachment = replies[0].attachment
    assert attachment is not None
    document: dict[str, Any] = json.loads(attachment.content.decode("utf-8"))
    return document


async def _linked(app: App, name: str = "Ploy") -> tuple[Chat, Chat, Member]:
    telegram, member = await member_chat(app, name=name, user_id="tg1", locale="en")
    await telegram.say("/link")
    code = telegram.last[-1].text.removeprefix("/link ")
    line = _line(app)
    await line.say(f"/link {code}")
    assert "Linked" in line.text()
    return telegram, line, member


async def test_export_after_a_void_shows_the_void_and_points_that_add_up(app: App) -> None:
    await ensure_branches(app, ("asoke",))
    cashier = await staff_chat(app, "c1", "cashier", "asoke")
    chat, member = await member_chat(app, name="พลอย 👩‍👧 ทดสอบ", user_id="m1")
    await cashier.say(f"/sale {member.member_code} 250 receipt=R1")
    await cashier.say(f"/sale {member.member_code} 100 receipt=R2")
    manager = await staff_chat(app, "mg", "manager")
    await manager.say("/void R1")
    data = await _export(chat)
    assert data["member"]["name"] == "พลอย 👩‍👧 ทดสอบ"  # the family emoji keeps its joiners
    by_receipt = {sale["receipt_no"]: sale for sale in data["sales"]}
    assert by_receipt["R1"]["voided_at"] is not None
    assert by_receipt["R2"]["voided_at"] is None
    deltas = [entry["delta"] for entry in data["points"]]
    assert sorted(deltas) == [-10, 4, 10]
    assert sum(deltas) == await balance(app, member.id)


async def test_a_linked_member_exports_both_accounts_from_either(app: App) -> None:
    telegram, line, _member = await _linked(app)
    from_telegram, from_line = await _export(telegram), await _export(line)
    accounts = {(i["channel"], i["user_id"]) for i in from_telegram["channel_identities"]}
    assert accounts == {("telegram", "tg1"), ("line", LINE_USER)}
    assert from_line["member"] == from_telegram["member"]


async def test_erasing_from_one_linked_account_leaves_nothing_on_the_other(app: App) -> None:
    telegram, line, member = await _linked(app)
    await line.say("/deleteme")
    await line.press("del:yes")
    replies = await telegram.say("/mydata")
    assert all(reply.attachment is None for reply in replies)
    assert "Ploy" not in telegram.text()
    accounts = await rows(app, ChannelIdentity, ChannelIdentity.member_id == member.id)
    assert accounts == []


async def test_a_code_of_an_erased_member_links_nobody(app: App) -> None:
    telegram, member = await member_chat(app, user_id="tg1", locale="en", points=70)
    await telegram.say("/link")
    code = telegram.last[-1].text.removeprefix("/link ")
    await telegram.say("/deleteme")
    await telegram.press("del:yes")
    line = _line(app)
    await line.say(f"/link {code}")
    assert "does not work" in line.text()
    assert await rows(app, ChannelIdentity, ChannelIdentity.member_id == member.id) == []
    await line.say("/points")
    assert "70" not in line.text()


async def test_a_replayed_or_forwarded_code_adds_no_third_account(app: App) -> None:
    telegram, member = await member_chat(app, user_id="tg1", locale="en")
    await telegram.say("/link")
    code = telegram.last[-1].text.removeprefix("/link ")
    line = _line(app)
    await line.say(f"/link {code}")
    await line.say(f"/link {code}")  # the same message sent again: already linked, no guess
    assert "already belongs to this membership" in line.text()
    third = _line(app, "U" + "f" * 32)
    await third.say(f"/link {code}")  # a third person who saw the code
    assert "does not work" in third.text()
    await telegram.say("/link")
    fresh = telegram.last[-1].text.removeprefix("/link ")
    await third.say(f"/link {fresh}")  # a live code, but the member already has a LINE account
    assert "already has an account on this app" in third.text()
    accounts = await rows(app, ChannelIdentity, ChannelIdentity.member_id == member.id)
    assert {(a.channel, a.user_id) for a in accounts} == {("telegram", "tg1"), ("line", LINE_USER)}


async def test_a_member_with_points_is_not_merged_and_keeps_them(app: App) -> None:
    telegram, ploy = await member_chat(app, user_id="tg1", locale="en", points=120)
    line = _line(app)
    await join(line, name="Other", phone="089-999-0000")
    [other] = [m for m in await rows(app, Member) if m.id != ploy.id]
    before = await balance(app, other.id)
    await telegram.say("/link")
    code = telegram.last[-1].text.removeprefix("/link ")
    await line.say(f"/link {code}")
    assert "cannot be joined" in line.text()
    assert await balance(app, ploy.id) == 120
    assert await balance(app, other.id) == before


async def test_what_the_line_account_wrote_before_linking_is_in_the_export(app: App) -> None:
    telegram, _ = await member_chat(app, user_id="tg1", locale="en")
    line = _line(app)
    await line.say("สวัสดีค่ะ 🌸 ขอถามหน่อย")  # a guest's question, before the link
    await telegram.say("/link")
    code = telegram.last[-1].text.removeprefix("/link ")
    await line.say(f"/link {code}")
    data = await _export(telegram)
    assert [m["text"] for m in data["messages"]] == ["สวัสดีค่ะ 🌸 ขอถามหน่อย"]
    [thread] = data["inbox_threads"]
    assert [(m["direction"], m["text"]) for m in thread["messages"]] == [
        ("in", "สวัสดีค่ะ 🌸 ขอถามหน่อย")
    ]
