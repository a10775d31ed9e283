"""A customer's own words reaching staff on Telegram: a name and messages holding HTML the Bot
API would parse (``</code>``, ``<b>``, ``&amp;``, ``<script>``), Markdown signs, template
braces, an emoji family and Thai marks written alone. Driven through the real webhook with its
secret; every staff message the fake Bot API receives must parse as Telegram's HTML (else
Telegram answers 400 "can't parse entities" and the message is lost) and show the words as
the customer wrote them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.bootstrap import App
from bot.core.messages import Channel
from jobs.dispatcher import OutboxDispatcher
from simulator.fakes.telegram_api import Call, visible_text
from simulator.fakes.telegram_updates import text_update
from tests.e2e.telegram_world import TelegramWorld, telegram_world_with_branch
from tests.unit.staff_support import make_member, make_staff

MEMBER = 5560001
CASHIER = 5560002
OWNER = 5560003
FAMILY = "👨\u200d👩\u200d👧\u200d👦"
#: a name as a customer may set it: markup, Markdown, braces, an emoji family, a lone Thai mark
NAME = f'</code><b>ปลอย & "เพื่อน"</b> *_[x](y)_* {{name}} {FAMILY} \u0e48'
MESSAGE = "<script>alert(1)</script> ราคา &amp; 5 < 6 > 4 </pre> `code` {points}"


@pytest.fixture
async def tg(app: App) -> AsyncIterator[TelegramWorld]:
    async with telegram_world_with_branch(app) as world:
        await make_staff(world.app, str(CASHIER), "cashier", "asoke")
        await make_staff(world.app, str(OWNER), "owner")
        yield world


async def _said(tg: TelegramWorld, update_id: int, user: int, text: str) -> list[Call]:
    before = len(tg.fake.calls)
    assert await tg.post(text_update(update_id, user, text)) == 200
    return [c for c in tg.fake.calls[before:] if c.chat_id == user]


def _shown(calls: list[Call]) -> str:
    """What the person reads; every call was accepted and parses as Telegram's HTML."""
    assert calls, "nothing was sent"
    for call in calls:
        assert call.status == 200, (call.status, call.params)
        assert call.params.get("parse_mode") == "HTML", call.params
    return "\n".join(visible_text(call.text) for call in calls)


async def _member(app: App) -> Any:
    return await make_member(app, NAME, "0812345678", user_id=str(MEMBER), home_branch_code="asoke")


async def test_a_sale_to_a_member_named_in_markup_confirms_with_the_name_as_written(
    tg: TelegramWorld,
) -> None:
    member = await _member(tg.app)
    shown = _shown(await _said(tg, 1, CASHIER, f"/sale {member.member_code} 1,250 receipt=ร1"))
    assert NAME.rstrip(" \u0e48") in shown, shown
    assert "1,250" in shown


async def test_a_customer_card_with_a_marked_up_note_reads_as_written(tg: TelegramWorld) -> None:
    member = await _member(tg.app)
    note = "ชอบหวานน้อย <i>ไม่ใส่น้ำแข็ง</i> & ขอหลอด </b>"
    _shown(await _said(tg, 1, OWNER, f"/note {member.member_code} {note}"))
    shown = _shown(await _said(tg, 2, OWNER, f"/customer {member.member_code}"))
    assert note in shown, shown
    assert NAME.rstrip(" \u0e48") in shown, shown


async def test_a_customers_marked_up_message_reaches_the_owner_readable(tg: TelegramWorld) -> None:
    await _member(tg.app)
    await _said(tg, 1, MEMBER, MESSAGE)
    before = len(tg.fake.calls)
    dispatcher = OutboxDispatcher(tg.app.uow, tg.app.clock, {Channel.TELEGRAM: tg.channel})
    await dispatcher.drain_once()
    alerts = [c for c in tg.fake.calls[before:] if c.chat_id == OWNER]
    shown = _shown(alerts)
    assert MESSAGE in shown, shown
    assert all(c.status == 200 for c in tg.fake.calls[before:])


async def test_a_five_thousand_character_thai_message_alerts_the_owner_in_one_message(
    tg: TelegramWorld,
) -> None:
    """Longer than Telegram's 4,096: the alert quotes its start (the thread holds all of it),
    in one accepted message."""
    await _member(tg.app)
    await _said(tg, 1, MEMBER, ("ขอสอบถามเรื่องแต้ม " * 300)[:5200])
    before = len(tg.fake.calls)
    await OutboxDispatcher(tg.app.uow, tg.app.clock, {Channel.TELEGRAM: tg.channel}).drain_once()
    [alert] = [c for c in tg.fake.calls[before:] if c.chat_id == OWNER]
    assert "ขอสอบถามเรื่องแต้ม" in _shown([alert])


async def test_the_alerts_quote_of_a_long_message_is_cut_between_characters_and_marked(
    tg: TelegramWorld,
) -> None:
    await _member(tg.app)
    # the family starts at code point 298: a cut at 300 falls inside it
    await _said(tg, 1, MEMBER, "ก" * 298 + FAMILY + " ขอบคุณค่ะ")
    before = len(tg.fake.calls)
    await OutboxDispatcher(tg.app.uow, tg.app.clock, {Channel.TELEGRAM: tg.channel}).drain_once()
    [alert] = [c for c in tg.fake.calls[before:] if c.chat_id == OWNER]
    quoted = _shown([alert]).split(":\n", 1)[1]
    assert not quoted.rstrip("…").endswith("\u200d"), repr(quoted[-8:])
    assert FAMILY in quoted or "👨" not in quoted, repr(quoted[-8:])
    assert quoted.endswith("…"), repr(quoted[-8:])
