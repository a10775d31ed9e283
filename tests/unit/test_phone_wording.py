"""The phone step asks only for what the channel can do, and a phone number reads the same to
the customer (/profile) and to staff (/customer)."""

from __future__ import annotations

from bot.bootstrap import App
from bot.core.messages import ButtonKind, Channel
from bot.i18n import format_phone, t
from tests.chat import Chat
from tests.unit.staff_support import member_chat, staff_chat

LINE_USER = "U" + "a" * 32


async def _to_the_phone_step(chat: Chat) -> None:
    await chat.say("/start")
    await chat.press("su:join")
    await chat.press("su:mkt:yes")
    await chat.say("Ploy")


async def test_on_line_the_phone_step_mentions_no_button(app: App) -> None:
    chat = Chat(app, user_id=LINE_USER, channel=Channel.LINE)
    await _to_the_phone_step(chat)
    assert chat.text() == t("th", "signup.ask_phone_typed")
    assert [b for r in chat.last for b in r.buttons if b.kind is ButtonKind.SHARE_CONTACT] == []


async def test_on_telegram_the_phone_step_offers_the_share_button(app: App) -> None:
    chat = Chat(app, language_code="en")
    await _to_the_phone_step(chat)
    assert chat.text() == t("en", "signup.ask_phone")
    assert [b.kind for r in chat.last for b in r.buttons] == [ButtonKind.SHARE_CONTACT]


async def test_customer_and_staff_see_the_phone_written_the_same_way(app: App) -> None:
    ploy, _ = await member_chat(app, "Ploy", "+66 81 234 5678", locale="en")
    cashier = await staff_chat(app, "c1", "cashier", language_code="en")
    shown = format_phone("+66812345678")
    assert shown == "081-234-5678"
    assert shown in (await ploy.say("/profile"))[0].text
    assert shown in (await cashier.say("/customer 0812345678"))[0].text
    assert "+66812345678" not in ploy.text()


def test_landlines_and_foreign_numbers_keep_their_shape() -> None:
    assert format_phone("+6621234567") == "02-123-4567"
    assert format_phone("+14155550100") == "+14155550100"
    assert format_phone(None) == "-"
