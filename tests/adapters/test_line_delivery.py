"""Delivery to LINE against the fake API: reply token vs push, retry keys, error mapping, setup."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from bot.bootstrap import App
from bot.channels.line import LineChannel
from bot.channels.line.richmenu import rich_menu_request
from bot.core.errors import (
    CredentialsRejected,
    PermanentChannelError,
    QuotaExhausted,
    RateLimited,
)
from bot.core.messages import Button, Reply
from simulator.fakes.line_api import FakeLineApi
from simulator.fakes.line_checks import invalid_messages

USER = "U4af4980629"


def texts(n: int) -> list[Reply]:
    return [Reply(text=f"ข้อความ {i}") for i in range(n)]


async def test_fresh_reply_token_is_used_and_nothing_is_pushed(
    channel: LineChannel, fake: FakeLineApi, app: App
) -> None:
    token = fake.issue_reply_token(USER)
    await channel.deliver(USER, texts(2), token, app.clock.now() - timedelta(seconds=5))
    [call] = fake.calls
    assert (call.endpoint, call.status) == ("reply", 200)
    assert call.json["replyToken"] == token
    assert [m["text"] for m in call.messages] == ["ข้อความ 0", "ข้อความ 1"]


async def test_stale_reply_token_is_not_used_and_the_reply_is_pushed_with_a_retry_key(
    channel: LineChannel, fake: FakeLineApi, app: App
) -> None:
    token = fake.issue_reply_token(USER)
    await channel.deliver(USER, texts(1), token, app.clock.now() - timedelta(seconds=90))
    [call] = fake.calls
    assert (call.endpoint, call.status) == ("push", 200)
    assert call.json["to"] == USER
    uuid.UUID(call.headers["X-Line-Retry-Key"])


async def test_invalid_reply_token_falls_back_to_push(
    channel: LineChannel, fake: FakeLineApi, app: App
) -> None:
    await channel.deliver(USER, texts(1), "not-issued", app.clock.now())
    assert [(c.endpoint, c.status) for c in fake.calls] == [("reply", 400), ("push", 200)]
    assert fake.messages_to(USER) == [{"type": "text", "text": "ข้อความ 0"}]


async def test_event_without_reply_token_is_answered_by_push(
    channel: LineChannel, fake: FakeLineApi, app: App
) -> None:
    await channel.deliver(USER, texts(1), None, app.clock.now())
    assert [c.endpoint for c in fake.calls] == ["push"]


async def test_more_than_five_messages_reply_five_and_push_the_rest(
    channel: LineChannel, fake: FakeLineApi, app: App
) -> None:
    token = fake.issue_reply_token(USER)
    await channel.deliver(USER, texts(7), token, app.clock.now())
    reply, push = fake.calls
    assert (reply.endpoint, len(reply.messages)) == ("reply", 5)
    assert (push.endpoint, len(push.messages)) == ("push", 2)
    assert [m["text"] for m in fake.messages_to(USER)] == [f"ข้อความ {i}" for i in range(7)]


async def test_push_retries_a_server_error_with_the_same_retry_key(
    channel: LineChannel, fake: FakeLineApi
) -> None:
    fake.fail_server_error("push")
    await channel.push(USER, texts(1))
    first, second = fake.calls
    assert (first.status, second.status) == (500, 200)
    assert first.headers["X-Line-Retry-Key"] == second.headers["X-Line-Retry-Key"]


async def test_a_repeated_push_with_an_accepted_retry_key_gets_409_and_counts_as_sent(
    channel: LineChannel, fake: FakeLineApi
) -> None:
    key = str(uuid.uuid4())
    await channel.push(USER, texts(1), retry_key=key)
    await channel.push(USER, texts(1), retry_key=key)  # the caller retried: no second message
    assert [c.status for c in fake.calls] == [200, 409]
    assert len(fake.messages_to(USER)) == 1


async def test_each_request_of_a_long_push_gets_its_own_retry_key(
    channel: LineChannel, fake: FakeLineApi
) -> None:
    await channel.push(USER, texts(6), retry_key=str(uuid.uuid4()))
    keys = {c.headers["X-Line-Retry-Key"] for c in fake.calls}
    assert len(keys) == 2
    assert len(fake.messages_to(USER)) == 6


async def test_monthly_limit_429_is_quota_exhausted_and_not_retried(
    channel: LineChannel, fake: FakeLineApi
) -> None:
    fake.fail_monthly_limit("push")
    with pytest.raises(QuotaExhausted):
        await channel.push(USER, texts(1))
    assert len(fake.calls) == 1


async def test_rate_limit_429_is_rate_limited(channel: LineChannel, fake: FakeLineApi) -> None:
    fake.fail_rate_limit("push")
    with pytest.raises(RateLimited) as raised:
        await channel.push(USER, texts(1))
    assert raised.value.retry_after == 1.0
    assert len(fake.calls) == 1


async def test_quota_counter_of_the_fake_stops_pushes_with_the_monthly_limit(
    channel: LineChannel, fake: FakeLineApi
) -> None:
    fake.quota_limit = 1
    await channel.push(USER, texts(1))
    with pytest.raises(QuotaExhausted):
        await channel.push(USER, texts(1))


async def test_other_4xx_is_a_permanent_error(channel: LineChannel, fake: FakeLineApi) -> None:
    fake.fail("push", 400, "The request body has 1 error(s)")
    with pytest.raises(PermanentChannelError):
        await channel.push(USER, texts(1))


async def test_unauthorised_token_is_the_bots_credentials_not_a_permanent_error(
    channel: LineChannel, fake: FakeLineApi
) -> None:
    fake.access_token = "rotated"
    with pytest.raises(CredentialsRejected) as raised:
        await channel.push(USER, texts(1))
    assert not isinstance(raised.value, PermanentChannelError)  # the message waits
    assert raised.value.setting == "LINE_CHANNEL_ACCESS_TOKEN"


async def test_quota_reads_the_monthly_limit_and_the_usage(
    channel: LineChannel, fake: FakeLineApi
) -> None:
    fake.quota_limit, fake.quota_used = 300, 42
    assert await channel.quota() == (300, 42)


async def test_unlimited_quota_is_none(channel: LineChannel, fake: FakeLineApi) -> None:
    assert await channel.quota() == (None, 0)


async def test_setup_creates_the_rich_menu_uploads_its_image_and_makes_it_default(
    channel: LineChannel, fake: FakeLineApi
) -> None:
    lines = await channel.setup()
    [menu_id] = fake.rich_menus
    assert fake.default_rich_menu == menu_id
    assert fake.rich_menu_images[menu_id].startswith(b"\x89PNG")
    menu = fake.rich_menus[menu_id]
    assert [a["action"]["data"] for a in menu["areas"]] == [
        "cmd:card",
        "cmd:points",
        "cmd:history",
        "cmd:profile",
        "cmd:help",
    ]
    assert len(menu["chatBarText"]) <= 14
    assert any(menu_id in line for line in lines)


async def test_setup_again_replaces_its_menu_instead_of_adding_one(
    channel: LineChannel, fake: FakeLineApi
) -> None:
    fake.rich_menus["richmenu-theirs"] = {**rich_menu_request(), "name": "the owner's own menu"}
    await channel.setup()
    [first] = [m for m in fake.rich_menus if m != "richmenu-theirs"]
    lines = await channel.setup()
    [second] = [m for m in fake.rich_menus if m != "richmenu-theirs"]
    assert second != first
    assert fake.default_rich_menu == second
    assert f"earlier rich menu deleted: {first}" in lines
    # a menu someone else made is not ours to delete
    assert "richmenu-theirs" in fake.rich_menus
    deleted = [call.path for call in fake.calls_to("richmenu_delete")]
    assert deleted == [f"/v2/bot/richmenu/{first}"]
    # the new menu was the default before the old one went: nobody was left without one
    order = [call.endpoint for call in fake.calls]
    last_default = max(i for i, endpoint in enumerate(order) if endpoint == "richmenu_default")
    assert order.index("richmenu_delete") > last_default


#: 20 code points but 21 UTF-16 units (the emoji is outside the BMP)
EMOJI_LABEL = "🌸" + "x" * 19
#: 24 code points: twelve consonants, each with its tone mark (one grapheme each)
THAI_LABEL = "ก่" * 12


def _units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


async def test_labels_are_cut_to_fit_code_points_and_utf16_units_at_graphemes(
    channel: LineChannel, fake: FakeLineApi
) -> None:
    buttons = tuple(Button(label, f"a:{i}") for i, label in enumerate([EMOJI_LABEL, THAI_LABEL]))
    await channel.push(USER, [Reply(text="เลือก", buttons=buttons)], str(uuid.uuid4()))
    [call] = fake.delivered()
    labels = [i["action"]["label"] for i in call.messages[-1]["quickReply"]["items"]]
    assert labels == ["🌸" + "x" * 17 + "…", "ก่" * 9 + "…"]
    assert all(len(label) <= 20 and _units(label) <= 20 for label in labels)
    # the whole label is still echoed into the chat when pressed
    assert call.messages[-1]["quickReply"]["items"][0]["action"]["displayText"] == EMOJI_LABEL


async def test_bubble_button_labels_fit_both_measures_too(
    channel: LineChannel, fake: FakeLineApi
) -> None:
    label = "🌸" * 15 + "x" * 11  # 26 code points, 41 UTF-16 units
    buttons = tuple(Button(label, f"a:{i}") for i in range(14))  # over 13: a Flex bubble
    await channel.push(USER, [Reply(text="เลือก", buttons=buttons)], str(uuid.uuid4()))
    [call] = fake.delivered()
    body = call.messages[-1]["contents"]["body"]["contents"]
    assert {_units(c["action"]["label"]) for c in body} == {40}  # 15 emoji, 9 x, "…"


def test_the_fake_refuses_labels_too_long_in_utf16_units() -> None:
    quick = {"items": [{"type": "action", "action": {"type": "message", "label": EMOJI_LABEL}}]}
    problems = invalid_messages([{"type": "text", "text": "hi", "quickReply": quick}])
    assert problems == [
        {
            "message": "Length must be between 1 and 20",
            "property": "messages[0].quickReply.items[0].action.label",
        }
    ]
    button = {"type": "button", "action": {"type": "postback", "label": "🌸" * 21, "data": "a"}}
    bubble = {"type": "bubble", "body": {"type": "box", "layout": "vertical", "contents": [button]}}
    flex = {"type": "flex", "altText": "a", "contents": bubble}
    assert [p["property"] for p in invalid_messages([flex])] == [
        "messages[0].contents.body.contents[0].action.label"
    ]
