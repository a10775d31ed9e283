"""Replies and pushes posted without line-bot-sdk's models, against the fake LINE API: the same
requests as the SDK's ``reply_message`` / ``push_message`` (path, headers in order, parsed
body) and the same errors out of the one mapping in :mod:`bot.channels.line.send`."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from linebot.v3.messaging import (
    ApiException,
    AsyncApiClient,
    PushMessageRequest,
    ReplyMessageRequest,
)

from bot.channels.line import LineChannel
from bot.channels.line.send import REQUEST_TIMEOUT, channel_error
from bot.core.errors import ChannelError, TransientChannelError
from bot.core.messages import Attachment, Button, ButtonKind, MemberCardView, Reply
from simulator.fakes.line_api import FakeLineApi

USER = "U4af4980629"
REPLIES = [
    Reply(text='สวัสดีค่ะ "คุณพลอย" \\ ✓'),
    Reply(card=MemberCardView("Ploy", "M1234", "Silver", 1250, "x", b"png")),
    Reply(attachment=Attachment("qr.png", b"png", "image/png")),
    Reply(
        text="เลือกเลย",
        buttons=(
            Button("แต้มของฉัน", "cmd:points"),
            Button("Site", kind=ButtonKind.URL, url="https://x.test/"),
        ),
    ),
]


async def test_a_reply_is_the_sdks_request_without_its_models(
    channel: LineChannel, fake: FakeLineApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    messages = await channel.render(USER, REPLIES)
    assert [m["type"] for m in messages] == ["text", "flex", "image", "text"]
    assert "hero" in messages[1]["contents"]  # the QR, with the default the SDK writes
    sdk_token, our_token = fake.issue_reply_token(USER), fake.issue_reply_token(USER)
    request = ReplyMessageRequest.from_dict({"replyToken": sdk_token, "messages": messages})
    await channel.api.reply_message(request, _request_timeout=REQUEST_TIMEOUT)

    def no_model(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the SDK's models were used")

    monkeypatch.setattr(ReplyMessageRequest, "from_dict", no_model)
    monkeypatch.setattr(AsyncApiClient, "call_api", no_model)
    assert await channel.sender.reply(our_token, messages)
    sdk, our = fake.calls_to("reply")
    assert (sdk.status, our.status) == (200, 200)
    assert (our.method, our.path) == (sdk.method, sdk.path)
    assert list(our.headers) == list(sdk.headers)  # the same headers, in the same order
    assert our.headers == sdk.headers
    assert our.json == {**sdk.json, "replyToken": our_token}
    assert our.headers["Authorization"] == f"Bearer {fake.access_token}"
    assert our.headers["User-Agent"].startswith("line-bot-sdk-python/")


async def test_a_push_is_the_sdks_request_without_its_models(
    channel: LineChannel, fake: FakeLineApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    messages = await channel.render(USER, REPLIES)
    sdk_key, our_key = str(uuid.uuid4()), str(uuid.uuid4())
    request = PushMessageRequest.from_dict({"to": USER, "messages": messages})
    await channel.api.push_message(
        request, x_line_retry_key=sdk_key, _request_timeout=REQUEST_TIMEOUT
    )

    def no_model(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the SDK's models were used")

    monkeypatch.setattr(PushMessageRequest, "from_dict", no_model)
    monkeypatch.setattr(AsyncApiClient, "call_api", no_model)
    await channel.sender.push(USER, messages, our_key)
    sdk, our = fake.calls_to("push")
    assert (sdk.status, our.status) == (200, 200)
    assert (our.method, our.path) == (sdk.method, sdk.path)
    assert list(our.headers) == list(sdk.headers)
    assert our.headers == {**sdk.headers, "X-Line-Retry-Key": our_key}
    assert our.json == sdk.json


# -- the same errors --------------------------------------------------------------------------

FAILURES: list[tuple[int, str]] = [
    (400, "Invalid reply token"),
    (400, "The request body has 2 error(s)"),
    (401, "Authentication failed. Confirm that the access token is valid."),
    (403, "The bot is not allowed to send"),
    (409, "The retry key is already accepted"),
    (429, "The API rate limit has been exceeded. Try again later."),
    (429, "You have reached your monthly limit."),
    (500, "Internal server error"),
    (503, ""),
]


def described(error: BaseException) -> tuple[type[BaseException], str, float | None]:
    return type(error), str(error), getattr(error, "retry_after", None)


@pytest.mark.parametrize(("status", "message"), FAILURES)
async def test_a_refused_reply_raises_what_the_sdks_refusal_mapped_to(
    channel: LineChannel, fake: FakeLineApi, status: int, message: str
) -> None:
    messages = [{"type": "text", "text": "hi"}]
    fake.fail("reply", status, message)
    request = ReplyMessageRequest.from_dict({"replyToken": "t", "messages": messages})
    with pytest.raises(ApiException) as sdk_raised:
        await channel.api.reply_message(request, _request_timeout=REQUEST_TIMEOUT)
    sdk_error = channel_error(sdk_raised.value)
    # a 5xx is tried again with the same token (it tells whether the first was taken): the
    # error is raised when every try meets it
    fake.fail("reply", status, message, times=3 if status >= 500 else 1)
    if message == "Invalid reply token":
        assert await channel.sender.reply("t", messages) is False
        return
    with pytest.raises(ChannelError) as raised:
        await channel.sender.reply("t", messages)
    assert described(raised.value) == described(sdk_error)
    assert isinstance(raised.value.__cause__, ApiException)
    assert raised.value.__cause__.body == sdk_raised.value.body  # text, as the SDK gave it


@pytest.mark.parametrize(("status", "message"), FAILURES)
async def test_a_refused_push_raises_what_the_sdks_refusal_mapped_to(
    channel: LineChannel, fake: FakeLineApi, status: int, message: str
) -> None:
    messages = [{"type": "text", "text": "hi"}]
    fake.fail("push", status, message)
    request = PushMessageRequest.from_dict({"to": USER, "messages": messages})
    with pytest.raises(ApiException) as sdk_raised:
        await channel.api.push_message(request, _request_timeout=REQUEST_TIMEOUT)
    sdk_error = channel_error(sdk_raised.value)
    fake.fail("push", status, message, times=3)
    if status == 409:  # accepted before: a success, not retried
        await channel.sender.push(USER, messages, str(uuid.uuid4()))
        assert len(fake.calls_to("push")) == 2
        return
    with pytest.raises(ChannelError) as raised:
        await channel.sender.push(USER, messages, str(uuid.uuid4()))
    assert described(raised.value) == described(sdk_error)
    retried = isinstance(sdk_error, TransientChannelError)  # 5xx: with the same key, twice
    assert len(fake.calls_to("push")) == 1 + (3 if retried else 1)


async def test_a_reply_that_times_out_is_transient(
    channel: LineChannel, aiohttp_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def never(_request: web.Request) -> web.Response:
        await asyncio.sleep(5)
        return web.json_response({})

    silent = web.Application()
    silent.router.add_post("/v2/bot/message/reply", never)
    server = await aiohttp_server(silent)
    base = str(server.make_url("")).rstrip("/")
    channel.settings = channel.settings.model_copy(update={"line_api_base": base})
    monkeypatch.setattr("bot.channels.line.send.REQUEST_TIMEOUT", 0.05)
    with pytest.raises(TransientChannelError, match="LINE reply failed") as raised:
        await channel.sender.reply("t", [{"type": "text", "text": "hi"}])
    assert isinstance(raised.value.__cause__, TimeoutError)


async def test_a_connection_refused_is_transient(channel: LineChannel) -> None:
    channel.settings = channel.settings.model_copy(update={"line_api_base": "http://127.0.0.1:9"})
    with pytest.raises(TransientChannelError, match="LINE reply failed") as raised:
        await channel.sender.reply("t", [{"type": "text", "text": "hi"}])
    assert isinstance(raised.value.__cause__, aiohttp.ClientError)
