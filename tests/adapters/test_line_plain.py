"""Common LINE events read straight from the webhook's JSON give what line-bot-sdk's parser gives.

For a one-to-one text message, a postback, a follow and an unfollow (LINE's documented
payloads, the simulator's builders, and any text, data, ids, tokens, times, modes and optional
fields), :func:`common_events` and ``WebhookParser.parse`` lead to the same :class:`Inbound`,
the same replay-window verdict, the same standby flag and event time; every other shape is
left to the SDK (``None``); and the webhook reads a common body without the SDK's parser.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from linebot.v3 import WebhookParser

from bot.bootstrap import App
from bot.channels.line import LineChannel
from bot.channels.line.inbound import event_time, is_standby, to_inbound, within_replay_window
from bot.channels.line.plain import common_events
from simulator.fakes.line_api import CHANNEL_SECRET, FakeLineApi
from simulator.fakes.line_webhooks import (
    follow_event,
    line_settings,
    postback_event,
    sign,
    signed_webhook,
    sticker_event,
    text_event,
    unfollow_event,
)

USER = "U4af4980629a1b2c3d4e5f60718293a4b"
NOW = datetime(2026, 3, 3, 7, 30, tzinfo=UTC)
STAMP = int(NOW.timestamp() * 1000)
NOWS = (NOW, NOW + timedelta(days=8), NOW - timedelta(minutes=6), NOW + timedelta(hours=1))


async def profile(_user_id: str) -> tuple[str | None, str | None]:
    return "Pl\x00oy", "th"


def sdk(body: bytes) -> list[Any]:
    return list(WebhookParser(CHANNEL_SECRET).parse(body.decode(), sign(body)))


async def assert_same(body: bytes) -> None:
    plain = common_events(json.loads(body))
    assert plain is not None, "a common body left to the SDK"
    parsed = sdk(body)
    assert len(plain) == len(parsed)
    for ours, theirs in zip(plain, parsed, strict=True):
        assert ours.webhook_event_id == theirs.webhook_event_id
        assert is_standby(ours) == is_standby(theirs)
        assert event_time(ours) == event_time(theirs)
        for now in NOWS:
            assert within_replay_window(ours, now) == within_replay_window(theirs, now)
            inbound = await to_inbound(ours, now, profile)
            assert inbound is not None
            assert inbound == await to_inbound(theirs, now, profile)


def body_of(*events: dict[str, Any], destination: str | None = "U" + "0" * 32) -> bytes:
    body: dict[str, Any] = {"events": list(events)}
    if destination is not None:
        body = {"destination": destination, **body}
    return json.dumps(body).encode()  # ASCII escapes, as LINE may send them


def base(kind: str, **fields: Any) -> dict[str, Any]:
    return {
        "type": kind,
        "mode": "active",
        "timestamp": STAMP,
        "source": {"type": "user", "userId": USER},
        "webhookEventId": "01FZ74A0TDDPYRVKNK77XKC3ZR",
        "deliveryContext": {"isRedelivery": False},
        **fields,
    }


# LINE's documented payloads (Messaging API reference, webhook event objects)
DOCUMENTED: dict[str, dict[str, Any]] = {
    "text": base(
        "message",
        replyToken="nHuyWiB7yP5Zw52FIkcQobQuGDXCTA",
        message={
            "id": "444573844083572737",
            "type": "text",
            "quoteToken": "q3Plxr4AgKd...",
            "markAsReadToken": "30yhdy232...",
            "text": "Hello, world!",
        },
    ),
    "text quoting an earlier one": base(
        "message",
        replyToken="nHuyWiB7yP5Zw52FIkcQobQuGDXCTA",
        message={
            "id": "468789577898262530",
            "type": "text",
            "quotedMessageId": "468789532432007169",
            "quoteToken": "avdAr4U36eCXGuHRU6YAOo...",
            "text": "Chicken, please.",
        },
    ),
    "standby text": {
        **base(
            "message",
            message={"id": "1", "type": "text", "quoteToken": "q", "text": "Hello"},
        ),
        "mode": "standby",
    },
    "postback": base(
        "postback",
        replyToken="b60d432864f44d079f6d8efe86cf404b",
        postback={"data": "action=buy&itemid=111"},
    ),
    "follow": base(
        "follow", replyToken="85cbe770fa8b4f45bbe077b1d4be4a36", follow={"isUnblocked": False}
    ),
    "follow after unblocking": base(
        "follow", replyToken="85cbe770fa8b4f45bbe077b1d4be4a36", follow={"isUnblocked": True}
    ),
    "unfollow": base("unfollow"),
    "redelivered text": {
        **base(
            "message",
            replyToken="r",
            message={"id": "2", "type": "text", "quoteToken": "q", "text": "สวัสดีค่ะ"},
        ),
        "deliveryContext": {"isRedelivery": True},
    },
}


@pytest.mark.parametrize("name", DOCUMENTED)
async def test_a_documented_common_event_gives_the_sdks_inbound(name: str) -> None:
    await assert_same(body_of(DOCUMENTED[name]))


async def test_the_simulators_events_and_a_body_of_several_give_the_sdks_inbounds() -> None:
    events = [
        text_event(USER, "/points", "tok", NOW),
        postback_event(USER, "cmd:card", "tok2", NOW, redelivery=True),
        follow_event(USER, "tok3", NOW, unblocked=True),
        unfollow_event(USER, NOW),
        text_event(USER, "quiet", None, NOW, mode="standby"),
        postback_event(USER, "cmd:x", None, NOW, mode="standby"),
    ]
    for event in events:
        body, _ = signed_webhook([event])
        await assert_same(body)
    body, _ = signed_webhook(events)
    await assert_same(body)
    await assert_same(body_of(*events, destination=None))
    assert common_events({"destination": "Ubot", "events": []}) == []  # LINE's URL check


TEXTS = st.text(st.characters(codec="utf-8") | st.characters(categories=["Cs"]), max_size=80)
IDS = st.text(st.characters(codec="ascii"), min_size=1, max_size=40)
OPTIONAL_TEXT = st.fixed_dictionaries({}, optional={"quotedMessageId": IDS, "markAsReadToken": IDS})


@st.composite
def common_event(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["message", "postback", "follow", "unfollow"]))
    mode = draw(st.sampled_from(["active", "standby"]))
    event: dict[str, Any] = {
        "type": kind,
        "mode": mode,
        "timestamp": draw(st.integers(0, 4_102_444_800_000)),
        "source": {"type": "user", "userId": draw(IDS)},
        "webhookEventId": draw(IDS),
        "deliveryContext": {"isRedelivery": draw(st.booleans())},
    }
    token = draw(st.none() | IDS)
    if kind == "follow":
        event["replyToken"] = draw(IDS)
        event["follow"] = {"isUnblocked": draw(st.booleans())}
    elif kind != "unfollow" and token is not None:
        event["replyToken"] = token
    if kind == "message":
        content = {"id": draw(IDS), "type": "text", "quoteToken": draw(IDS), "text": draw(TEXTS)}
        event["message"] = {**content, **draw(OPTIONAL_TEXT)}
    if kind == "postback":
        event["postback"] = {"data": draw(TEXTS)}
    keys = list(event)
    return {key: event[key] for key in draw(st.permutations(keys))}


@settings(max_examples=300, deadline=None)
@given(
    events=st.lists(common_event(), max_size=3),
    destination=st.none() | st.just("U" + "f" * 32),
)
async def test_any_common_events_give_the_sdks_inbounds(
    events: list[dict[str, Any]], destination: str | None
) -> None:
    await assert_same(body_of(*events, destination=destination))


# -- what is left to the SDK ------------------------------------------------------------------

TEXT = DOCUMENTED["text"]
MESSAGE = TEXT["message"]
LEFT: dict[str, Any] = {
    "a group's text": {**TEXT, "source": {"type": "group", "groupId": "Ca", "userId": USER}},
    "a room's text": {**TEXT, "source": {"type": "room", "roomId": "Ra", "userId": USER}},
    "a source without a user": {**TEXT, "source": {"type": "user"}},
    "an empty user id": {**TEXT, "source": {"type": "user", "userId": ""}},
    "a sticker": sticker_event(USER, "t", NOW),
    "an image": {**TEXT, "message": {"id": "1", "type": "image", "quoteToken": "q"}},
    "a text with emojis": {
        **TEXT,
        "message": {**MESSAGE, "emojis": [{"index": 0, "length": 6, "productId": "p"}]},
    },
    "a text with a mention": {**TEXT, "message": {**MESSAGE, "mention": {"mentionees": []}}},
    "a text without its quote token": {
        **TEXT,
        "message": {k: v for k, v in MESSAGE.items() if k != "quoteToken"},
    },
    "a text that is a number": {**TEXT, "message": {**MESSAGE, "text": 42}},
    "a text that is null": {**TEXT, "message": {**MESSAGE, "text": None}},
    "a postback with params": {
        **DOCUMENTED["postback"],
        "postback": {"data": "d", "params": {"datetime": "2026-03-03T10:00"}},
    },
    "a follow without a reply token": {
        k: v for k, v in DOCUMENTED["follow"].items() if k != "replyToken"
    },
    "an unfollow with a reply token": {**DOCUMENTED["unfollow"], "replyToken": "r"},
    "a join": {**DOCUMENTED["unfollow"], "type": "join", "replyToken": "r"},
    "an unknown type": {**DOCUMENTED["unfollow"], "type": "somethingNew"},
    "a field the SDK does not know": {**TEXT, "newField": 1},
    "snake-case names": {
        **{k: v for k, v in TEXT.items() if k != "replyToken"},
        "reply_token": "r",
    },
    "a timestamp as text": {**TEXT, "timestamp": str(STAMP)},
    "a timestamp as a float": {**TEXT, "timestamp": float(STAMP)},
    "a timestamp that is true": {**TEXT, "timestamp": True},
    "redelivery as a number": {**TEXT, "deliveryContext": {"isRedelivery": 0}},
    "an unknown mode": {**TEXT, "mode": "other"},
    "no webhook event id": {k: v for k, v in TEXT.items() if k != "webhookEventId"},
    "no delivery context": {k: v for k, v in TEXT.items() if k != "deliveryContext"},
    "an event that is a list": [TEXT],
}


@pytest.mark.parametrize("name", LEFT)
def test_any_other_event_leaves_the_whole_body_to_the_sdk(name: str) -> None:
    assert common_events({"destination": "U1", "events": [LEFT[name]]}) is None
    assert common_events({"destination": "U1", "events": [TEXT, LEFT[name]]}) is None


@pytest.mark.parametrize(
    "body",
    [
        [],
        "x",
        None,
        {},
        {"events": {}},
        {"events": [TEXT], "extra": 1},
        {"destination": 1, "events": []},
    ],
)
def test_a_body_of_another_shape_is_left_to_the_sdk(body: object) -> None:
    assert common_events(body) is None


# -- the endpoint -------------------------------------------------------------------------------


@pytest.fixture
async def client(app: App, fake: FakeLineApi, aiohttp_client: Any) -> TestClient[Any, Any]:
    line = LineChannel(line_settings(app.settings, fake), app.bus, app.uow, app.clock)
    web_app = web.Application()
    line.register(web_app)
    web_app.on_cleanup.append(lambda _: line.close())
    client: TestClient[Any, Any] = await aiohttp_client(web_app)
    return client


async def post(client: TestClient[Any, Any], body: bytes, signature: str) -> int:
    headers = {"Content-Type": "application/json", "X-Line-Signature": signature}
    async with client.post("/webhook/line", data=body, headers=headers) as response:
        return response.status


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The bodies the SDK's parser was given."""
    given: list[str] = []
    parse = WebhookParser.parse

    def counted(self: WebhookParser, body: str, signature: str, as_payload: bool = False) -> Any:
        given.append(body)
        return parse(self, body, signature, as_payload)

    monkeypatch.setattr(WebhookParser, "parse", counted)
    return given


async def test_a_common_body_is_read_without_the_sdks_parser(
    client: TestClient[Any, Any], app: App, fake: FakeLineApi, parses: list[str]
) -> None:
    now = app.clock.now()
    events = [
        text_event(USER, "/points", fake.issue_reply_token(USER), now),
        postback_event(USER, "cmd:points", fake.issue_reply_token(USER), now),
    ]
    body, signature = signed_webhook(events)
    assert await post(client, body, signature) == 200
    assert parses == []
    assert [call.endpoint for call in fake.delivered()] == ["reply", "reply"]


async def test_a_body_with_another_event_goes_to_the_sdk_whole(
    client: TestClient[Any, Any], app: App, fake: FakeLineApi, parses: list[str]
) -> None:
    now = app.clock.now()
    events = [
        text_event(USER, "/points", fake.issue_reply_token(USER), now),
        sticker_event(USER, fake.issue_reply_token(USER), now),
    ]
    body, signature = signed_webhook(events)
    assert await post(client, body, signature) == 200
    assert parses == [body.decode()]
    assert [call.endpoint for call in fake.delivered()] == ["reply", "reply"]  # the hint too


async def test_the_signature_is_checked_before_either_reader(
    client: TestClient[Any, Any], fake: FakeLineApi, parses: list[str]
) -> None:
    body, signature = signed_webhook([text_event(USER, "hi", "t", NOW)])
    assert await post(client, body, sign(body, "another-secret")) == 401
    assert await post(client, body.replace(b"hi", b"ho"), signature) == 401
    assert await post(client, body, "") == 401  # missing
    # not UTF-8: refused as a bad body before the signature is looked at, as before
    assert await post(client, b"\xff\xfe{}", signature) == 400
    assert await post(client, b"not json", sign(b"not json")) == 400
    assert parses == []
    assert fake.calls == []
