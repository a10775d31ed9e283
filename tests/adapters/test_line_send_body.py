"""Reply and push bodies built without line-bot-sdk's models mean what the SDK's bodies mean.

For every shape :mod:`bot.channels.line.render` makes (texts, split texts, quick replies,
Flex button bubbles, member cards with and without the QR, images, download links, documents
as text), the parsed JSON of :func:`reply_body` / :func:`push_body` equals the parsed JSON of
the SDK's ``ReplyMessageRequest`` / ``PushMessageRequest`` after its own serialisation
(``from_dict`` → ``sanitize_for_serialization``): the same keys, the same defaults, the same
values (the order of keys in an object is all that may differ). No network, no database.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from linebot.v3.messaging import (
    ApiClient,
    Configuration,
    PushMessageRequest,
    ReplyMessageRequest,
)

from bot.channels.line.post import push_body, reply_body
from bot.channels.line.render import LineMessage, LineRenderer
from bot.channels.line.send import batches
from bot.core.messages import Attachment, Button, ButtonKind, MemberCardView, Reply
from tests.adapters.test_line_render import Publisher

SDK = ApiClient(Configuration(access_token="x"))
USER = "U" + "a" * 32


def sdk_json(request: ReplyMessageRequest | PushMessageRequest) -> Any:
    """The JSON the SDK sends for ``request`` (its ``__call_api`` → ``json.dumps``), parsed."""
    return json.loads(json.dumps(SDK.sanitize_for_serialization(request)))


def ours(body: dict[str, Any]) -> Any:
    return json.loads(json.dumps(body))


def assert_same_bodies(messages: list[LineMessage]) -> None:
    for group in batches(messages):
        reply = ReplyMessageRequest.from_dict({"replyToken": "tok", "messages": group})
        assert ours(reply_body("tok", group)) == sdk_json(reply)
        push = PushMessageRequest.from_dict({"to": USER, "messages": group})
        assert ours(push_body(USER, group)) == sdk_json(push)


def render(replies: list[Reply], public: bool = True, locale: str = "th") -> list[LineMessage]:
    renderer = LineRenderer(Publisher("https://shop.example" if public else None), "Cha Yen ชาเย็น")
    return asyncio.run(renderer.render(replies, locale))


CARD = MemberCardView(
    name="Ploy 🌸", member_code="M1234", tier="Silver", points=1250, qr_payload="x", qr_png=b"png"
)
BUTTONS = (
    Button("แต้มของฉัน", "cmd:points"),
    Button("Our site", kind=ButtonKind.URL, url="https://shop.example/"),
    Button("Share my phone", kind=ButtonKind.SHARE_CONTACT),
)
SHAPES: dict[str, list[Reply]] = {
    "text": [Reply(text="สวัสดีค่ะ")],
    "texts over five messages": [Reply(text=f"ข้อความ {i}") for i in range(7)],
    "long text split": [Reply(text=("ก" * 99 + "\n") * 60)],
    "quick replies": [Reply(text="เลือกเลย", buttons=BUTTONS)],
    "thirteen quick replies": [
        Reply(text="x", buttons=tuple(Button(f"b{i}", f"a{i}") for i in range(13)))
    ],
    "fourteen buttons: a bubble": [
        Reply(text="x", buttons=tuple(Button(f"b{i}", f"a{i}") for i in range(14)))
    ],
    "buttons of an earlier reply: a bubble": [
        Reply(text="first", buttons=BUTTONS, meta={"alt_text": "choose"}),
        Reply(text="second"),
    ],
    "long labels cut": [Reply(text="x", buttons=(Button("👍🏽" * 30, "cmd:x"),))],
    "member card": [Reply(text="บัตรสมาชิก", card=CARD)],
    "member card without its QR": [Reply(card=MemberCardView("A", "M1", "", 0, "", b""))],
    "member card and buttons": [Reply(card=CARD, buttons=BUTTONS)],
    "image": [Reply(text="QR", attachment=Attachment("qr.png", b"png", "image/png"))],
    "document": [Reply(attachment=Attachment("data.json", b'{"a": 1}', "application/json"))],
}


def test_every_message_shape_of_the_renderer_is_sent_as_the_sdk_writes_it() -> None:
    for name, replies in SHAPES.items():
        for public in (True, False):
            messages = render(replies, public)
            assert messages, name
            assert_same_bodies(messages)


def test_the_one_default_the_request_adds_is_written_and_nothing_else() -> None:
    [text] = render([Reply(text="hi")])
    assert reply_body("tok", [text]) == {
        "replyToken": "tok",
        "messages": [{"type": "text", "text": "hi"}],
        "notificationDisabled": False,
    }
    assert push_body(USER, [text]) == {
        "to": USER,
        "messages": [{"type": "text", "text": "hi"}],
        "notificationDisabled": False,
    }


def test_the_card_image_carries_the_default_the_sdk_writes() -> None:
    [card] = render([Reply(card=CARD)])
    assert card["contents"]["hero"]["animated"] is False


# -- any render input -----------------------------------------------------------------------

TEXT = st.text(st.characters(codec="utf-8"), max_size=60)
ACTION = st.text(st.characters(codec="utf-8"), min_size=1, max_size=16).filter(
    lambda action: 0 < len(action.encode()) <= 64
)
BUTTON = st.one_of(
    st.builds(Button, label=TEXT, action=ACTION),
    st.builds(Button, label=TEXT, kind=st.just(ButtonKind.URL), url=st.just("https://x.test/")),
    st.builds(Button, label=TEXT, kind=st.just(ButtonKind.SHARE_CONTACT)),
)
CARDS = st.builds(
    MemberCardView,
    name=TEXT,
    member_code=st.from_regex(r"M[0-9]{1,8}", fullmatch=True),
    tier=TEXT,
    points=st.integers(-(10**6), 10**9),
    qr_payload=st.just("x"),
    qr_png=st.sampled_from([b"", b"png"]),
    shop=TEXT,
)
ATTACHMENTS = st.builds(
    Attachment,
    filename=st.sampled_from(["qr.png", "data.json", "export.csv"]),
    content=st.binary(max_size=40),
    mime_type=st.sampled_from(["image/png", "application/json", "text/csv"]),
    valid_until=st.none() | st.just(datetime(2026, 5, 1, tzinfo=UTC)),
)
REPLIES = st.builds(
    Reply,
    text=TEXT,
    buttons=st.lists(BUTTON, max_size=15).map(tuple),
    attachment=st.none() | ATTACHMENTS,
    card=st.none() | CARDS,
    meta=st.just({}) | st.fixed_dictionaries({"alt_text": TEXT}),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    replies=st.lists(REPLIES, min_size=1, max_size=4),
    public=st.booleans(),
    locale=st.sampled_from(["th", "en"]),
)
def test_any_replies_are_sent_as_the_sdk_writes_them(
    replies: list[Reply], public: bool, locale: str
) -> None:
    messages = render(replies, public, locale)
    if messages:
        assert_same_bodies(messages)
