"""Reply values → the Bot API requests the fake Telegram received, and errors → ChannelError."""

from __future__ import annotations

import html
from collections.abc import AsyncIterator

import pytest
from aiogram import Bot

from bot.channels.telegram import make_bot
from bot.channels.telegram.outbound import send, split_text, utf16_len
from bot.core.errors import (
    PermanentChannelError,
    RateLimited,
    RecipientUnreachable,
    TransientChannelError,
)
from bot.core.messages import Attachment, Button, ButtonKind, MemberCardView, Reply
from simulator.fakes.telegram_api import TOKEN, FakeTelegramAPI, serving

CHAT = 5550001
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


@pytest.fixture
async def served() -> AsyncIterator[tuple[FakeTelegramAPI, str]]:
    async with serving() as running:
        yield running


@pytest.fixture
def fake(served: tuple[FakeTelegramAPI, str]) -> FakeTelegramAPI:
    return served[0]


@pytest.fixture
async def bot(served: tuple[FakeTelegramAPI, str]) -> AsyncIterator[Bot]:
    bot = make_bot(TOKEN, served[1])
    yield bot
    await bot.session.close()


async def test_text_is_html_escaped_and_arrives_unchanged(bot: Bot, fake: FakeTelegramAPI) -> None:
    await send(bot, CHAT, [Reply(text='<b>&"x"</b>')])
    (call,) = fake.sent(CHAT)
    assert call.params["parse_mode"] == "HTML"
    assert call.text == html.escape('<b>&"x"</b>')


async def test_reply_without_buttons_removes_a_stale_contact_keyboard(
    bot: Bot, fake: FakeTelegramAPI
) -> None:
    await send(bot, CHAT, [Reply(text="ok")])
    assert fake.sent(CHAT)[0].markup == {"remove_keyboard": True}


async def test_ten_thousand_characters_are_split_under_the_limit(
    bot: Bot, fake: FakeTelegramAPI
) -> None:
    text = "\n".join(f"{i:04d} " + "<&>" * 30 for i in range(110))  # ~10,000 chars
    assert len(text) > 10_000 - 500
    await send(bot, CHAT, [Reply(text=text)])
    parts = fake.sent(CHAT)
    assert len(parts) == 3
    shown = [html.unescape(p.text) for p in parts]
    assert all(utf16_len(s) <= 4096 for s in shown)
    assert "\n".join(shown) == text  # split at line ends, nothing lost


def test_one_long_line_is_cut_within_the_limit_without_losing_text() -> None:
    text = "ก" * 9000 + "😀" * 700
    parts = split_text(text)
    assert all(utf16_len(part) <= 4096 for part in parts)
    assert "".join(parts) == text


async def test_action_buttons_become_inline_keyboard_with_callback_data(
    bot: Bot, fake: FakeTelegramAPI
) -> None:
    buttons = (Button("ยอมรับ", "signup:consent:yes"), Button("ไม่ยอมรับ", "signup:consent:no"))
    await send(bot, CHAT, [Reply(text="PDPA", buttons=buttons)])
    (call,) = fake.sent(CHAT)
    rows = call.markup["inline_keyboard"]
    assert rows == [
        [
            {"text": "ยอมรับ", "callback_data": "signup:consent:yes"},
            {"text": "ไม่ยอมรับ", "callback_data": "signup:consent:no"},
        ]
    ]


async def test_long_labels_get_a_row_each(bot: Bot, fake: FakeTelegramAPI) -> None:
    buttons = (Button("Accept the membership terms", "a:1"), Button("Read the notice", "a:2"))
    await send(bot, CHAT, [Reply(text="PDPA", buttons=buttons)])
    assert [len(row) for row in fake.sent(CHAT)[0].markup["inline_keyboard"]] == [1, 1]


async def test_url_button_becomes_inline_url_button(bot: Bot, fake: FakeTelegramAPI) -> None:
    button = Button("Map", kind=ButtonKind.URL, url="https://shop.example/map")
    await send(bot, CHAT, [Reply(text="here", buttons=(button,))])
    assert fake.sent(CHAT)[0].markup["inline_keyboard"] == [
        [{"text": "Map", "url": "https://shop.example/map"}]
    ]


async def test_share_contact_button_becomes_one_time_contact_keyboard(
    bot: Bot, fake: FakeTelegramAPI
) -> None:
    share = Button("แชร์เบอร์โทร", kind=ButtonKind.SHARE_CONTACT)
    await send(bot, CHAT, [Reply(text="เบอร์โทร?", buttons=(share,))])
    (call,) = fake.sent(CHAT)
    assert call.markup["keyboard"] == [[{"text": "แชร์เบอร์โทร", "request_contact": True}]]
    assert call.markup["one_time_keyboard"] is True


async def test_contact_and_action_buttons_go_on_two_messages(
    bot: Bot, fake: FakeTelegramAPI
) -> None:
    share = Button("Share my phone", kind=ButtonKind.SHARE_CONTACT)
    cancel = Button("Cancel", "cmd:cancel")
    await send(bot, CHAT, [Reply(text="Phone?", buttons=(share, cancel))])
    first, second = fake.sent(CHAT)
    assert first.text == "Phone?"
    assert first.markup["keyboard"][0][0]["request_contact"] is True
    assert second.callback_data() == {"Cancel": "cmd:cancel"}


async def test_image_attachment_is_uploaded_as_photo_with_caption(
    bot: Bot, fake: FakeTelegramAPI
) -> None:
    chart = Attachment("chart.png", PNG, "image/png")
    await send(bot, CHAT, [Reply(text="Sales & visits", attachment=chart)])
    (call,) = fake.sent(CHAT)
    assert call.method == "sendPhoto"
    assert call.files["photo"] == PNG
    assert call.text == "Sales &amp; visits"


async def test_photo_with_over_long_text_sends_the_text_separately(
    bot: Bot, fake: FakeTelegramAPI
) -> None:
    chart = Attachment("chart.png", PNG, "image/png")
    await send(bot, CHAT, [Reply(text="x" * 2000, attachment=chart)])
    photo, text = fake.sent(CHAT)
    assert (photo.method, photo.text) == ("sendPhoto", "")
    assert (text.method, text.text) == ("sendMessage", "x" * 2000)


async def test_other_attachment_is_uploaded_as_document(bot: Bot, fake: FakeTelegramAPI) -> None:
    export = Attachment("mydata.json", b'{"name": "Ploy"}', "application/json")
    await send(bot, CHAT, [Reply(text="Your data", attachment=export)])
    (call,) = fake.sent(CHAT)
    assert call.method == "sendDocument"
    assert call.files["document"] == b'{"name": "Ploy"}'
    assert call.filenames["document"] == "mydata.json"


async def test_member_card_is_a_qr_photo_with_name_tier_points_and_code(
    bot: Bot, fake: FakeTelegramAPI
) -> None:
    card = MemberCardView("Ploy <3", "M-000123", "Gold", 1250, "chatcrm:M-000123", PNG)
    await send(bot, CHAT, [Reply(text="บัตรสมาชิก", card=card)])
    (call,) = fake.sent(CHAT)
    assert call.method == "sendPhoto"
    assert call.files["photo"] == PNG
    shown = html.unescape(call.text)
    for part in ("บัตรสมาชิก", "Ploy <3", "Gold", "1,250", "M-000123"):
        assert part in shown


async def test_member_card_text_naming_the_code_is_the_caption_alone(
    bot: Bot, fake: FakeTelegramAPI
) -> None:
    card = MemberCardView("Ploy", "M-000123", "Gold", 1250, "chatcrm:M-000123", PNG)
    text = "Ploy · Gold · 1,250 points\nMember code M-000123"
    await send(bot, CHAT, [Reply(text=text, card=card)])
    assert html.unescape(fake.sent(CHAT)[0].text) == text


async def test_blocked_user_raises_recipient_unreachable(bot: Bot, fake: FakeTelegramAPI) -> None:
    fake.block(CHAT)
    with pytest.raises(RecipientUnreachable):
        await send(bot, CHAT, [Reply(text="hi")])


async def test_429_raises_rate_limited_with_retry_after(bot: Bot, fake: FakeTelegramAPI) -> None:
    fake.fail(429, "Too Many Requests: retry after 7", chat_id=CHAT, retry_after=7)
    with pytest.raises(RateLimited) as caught:
        await send(bot, CHAT, [Reply(text="hi")])
    assert caught.value.retry_after == 7


async def test_5xx_raises_transient_error(bot: Bot, fake: FakeTelegramAPI) -> None:
    fake.fail(502, "Bad Gateway", times=1)
    with pytest.raises(TransientChannelError):
        await send(bot, CHAT, [Reply(text="hi")])


async def test_other_4xx_raises_permanent_error(bot: Bot, fake: FakeTelegramAPI) -> None:
    fake.fail(400, "Bad Request: chat not found", chat_id=CHAT)
    with pytest.raises(PermanentChannelError):
        await send(bot, CHAT, [Reply(text="hi")])


async def test_unreachable_server_raises_transient_error() -> None:
    bot = make_bot(TOKEN, "http://127.0.0.1:9")  # discard port: nothing listens
    try:
        with pytest.raises(TransientChannelError):
            await send(bot, CHAT, [Reply(text="hi")])
    finally:
        await bot.session.close()


async def test_a_failure_after_some_messages_carries_the_replies_still_to_send(
    bot: Bot, fake: FakeTelegramAPI
) -> None:
    # Telegram has no idempotency key: what went out before a failure must not go out again
    long = "\n".join(f"line {n}" for n in range(600))  # two messages
    replies = [Reply(text=long), Reply(text="after")]

    async def refuse_the_next(call: object) -> None:  # the message after the first: a 429
        fake.fail(429, "Too Many Requests: retry after 3", retry_after=3, times=1)
        fake.after_send = None

    fake.after_send = refuse_the_next
    with pytest.raises(RateLimited) as raised:
        await send(bot, CHAT, replies)
    rest = raised.value.rest
    assert rest is not None
    assert [r.text for r in rest] == [long, "after"]
    await send(bot, CHAT, rest)  # the retry sends the second part and "after" only
    shown = [html.unescape(call.text) for call in fake.sent(CHAT)]
    assert len(shown) == 3
    assert "\n".join(shown[:2]) == long
    assert shown[2] == "after"
    await send(bot, CHAT, [Reply(text="next")])  # a reply of its own is sent whole
    assert html.unescape(fake.sent(CHAT)[-1].text) == "next"


async def test_a_failure_of_the_first_message_leaves_the_whole_call_to_retry(
    bot: Bot, fake: FakeTelegramAPI
) -> None:
    fake.fail(429, "Too Many Requests: retry after 3", retry_after=3, times=1)
    with pytest.raises(RateLimited) as raised:
        await send(bot, CHAT, [Reply(text="a"), Reply(text="b")])
    assert raised.value.rest is None
