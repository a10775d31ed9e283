"""Messages go to the Bot API as plain JSON (a multipart form with a file), timed for the
arrival window, and every answer means the same error it meant through aiogram's methods."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aiogram import Bot
from aiohttp import ClientSession, ClientTimeout, FormData, web
from aiohttp.test_utils import TestServer

from bot import metrics
from bot.channels.telegram import make_bot
from bot.channels.telegram.outbound import call, send
from bot.channels.telegram.session import (
    BARE_429_WAITS,
    BareLimits,
    BotSession,
    answer_of,
    form,
)
from bot.core.errors import ChannelError, PermanentChannelError, RateLimited
from bot.core.messages import Attachment, Button, Reply
from jobs.ratelimit import ArrivalWindow
from simulator.fakes.telegram_api import TOKEN, FakeTelegramAPI, serving

CHAT = 5550001
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


class CountingWindow(ArrivalWindow):
    """The arrival window, counting the requests it timed to their answer."""

    def __init__(self) -> None:
        super().__init__(0.01)
        self.timed = 0

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        async with super().turn():
            yield
        self.timed += 1


@pytest.fixture
async def fake() -> AsyncIterator[tuple[FakeTelegramAPI, Bot, CountingWindow]]:
    window = CountingWindow()
    async with serving() as (api, base):
        bot = make_bot(TOKEN, base, window)
        yield api, bot, window
        await bot.session.close()


async def test_a_text_message_is_one_json_request_built_without_aiogram(
    fake: tuple[FakeTelegramAPI, Bot, CountingWindow], monkeypatch: pytest.MonkeyPatch
) -> None:
    api, bot, window = fake

    async def through_aiogram(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("a message went through aiogram's methods")

    monkeypatch.setattr(BotSession, "make_request", through_aiogram)
    buttons = (Button("ยอมรับ 👍", "su:join"), Button("Later", "su:later"))
    await send(bot, CHAT, [Reply(text="สวัสดี <พลอย> 🌸", buttons=buttons)])

    (sent,) = api.calls
    assert sent.content_type == "application/json"
    assert sent.params == {
        "chat_id": CHAT,
        "text": "สวัสดี &lt;พลอย&gt; 🌸",
        "parse_mode": "HTML",
        "reply_markup": {
            "inline_keyboard": [
                [
                    {"text": "ยอมรับ 👍", "callback_data": "su:join"},
                    {"text": "Later", "callback_data": "su:later"},
                ]
            ]
        },
    }
    assert window.timed == 1


async def test_a_photo_goes_as_a_multipart_form_with_its_file(
    fake: tuple[FakeTelegramAPI, Bot, CountingWindow],
) -> None:
    api, bot, window = fake
    await send(bot, CHAT, [Reply(text="Sales", attachment=Attachment("c.png", PNG, "image/png"))])
    (sent,) = api.sent(CHAT)
    assert sent.content_type == "multipart/form-data"
    assert (sent.method, sent.text, sent.params["parse_mode"]) == ("sendPhoto", "Sales", "HTML")
    assert sent.markup == {"remove_keyboard": True}
    assert (sent.files["photo"], sent.filenames["photo"]) == (PNG, "c.png")
    assert window.timed == 1


async def test_a_refused_message_is_not_timed(
    fake: tuple[FakeTelegramAPI, Bot, CountingWindow],
) -> None:
    api, bot, window = fake
    api.fail(429, "Too Many Requests: retry after 3", retry_after=3, times=1)
    with pytest.raises(RateLimited):
        await send(bot, CHAT, [Reply(text="hi")])
    await send(bot, CHAT, [Reply(text="hi")])
    assert window.timed == 1


#: (status, answer body, content type) a Bot API — or something in front of it — may give
ANSWERS: dict[str, tuple[int, str, str]] = {
    "429 with retry_after": (
        429,
        '{"ok": false, "error_code": 429, "description": "Too Many Requests: retry after 7",'
        ' "parameters": {"retry_after": 7}}',
        "application/json",
    ),
    "429 without retry_after": (
        429,
        '{"ok": false, "error_code": 429, "description": "Too Many Requests"}',
        "application/json",
    ),
    "blocked": (
        403,
        '{"ok": false, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}',
        "application/json",
    ),
    "message is too long": (
        400,
        '{"ok": false, "error_code": 400, "description": "Bad Request: message is too long"}',
        "application/json",
    ),
    "chat migrated": (
        400,
        '{"ok": false, "error_code": 400, "description": "Bad Request: group chat was upgraded",'
        ' "parameters": {"migrate_to_chat_id": -1001}}',
        "application/json",
    ),
    "bad token": (401, '{"ok": false, "error_code": 401, "description": "Unauthorized"}', ""),
    "not found": (404, '{"ok": false, "error_code": 404, "description": "Not Found"}', ""),
    "conflict": (409, '{"ok": false, "error_code": 409, "description": "Conflict"}', ""),
    "too large": (413, '{"ok": false, "error_code": 413, "description": "Too Large"}', ""),
    "server error": (500, '{"ok": false, "error_code": 500, "description": "Internal"}', ""),
    "restarting": (503, '{"ok": false, "error_code": 503, "description": "restart"}', ""),
    "a proxy's page": (502, "<html><body>Bad Gateway</body></html>", "text/html"),
    "truncated": (200, '{"ok": true, "result": {"message_', "application/json"),
    "not a message": (200, '{"ok": true, "result": {"date": 0}}', "application/json"),
    "not an answer": (200, '{"result": 1}', "application/json"),
    "refused with 200": (200, '{"ok": false, "description": "Bad Request: odd"}', ""),
}


@asynccontextmanager
async def answering(status: int, body: str, content_type: str) -> AsyncIterator[str]:
    async def handle(_request: web.Request) -> web.Response:
        return web.Response(status=status, body=body.encode(), content_type=content_type or None)

    app = web.Application()
    app.router.add_post("/bot{token}/{method}", handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/")
    finally:
        await server.close()


async def _raised(request: Any) -> ChannelError:
    with pytest.raises(ChannelError) as caught:
        await request
    return caught.value


@pytest.mark.parametrize("answer", ANSWERS.values(), ids=ANSWERS.keys())
async def test_every_answer_means_the_error_it_meant_through_aiogram(
    answer: tuple[int, str, str],
) -> None:
    status, body, content_type = answer
    limited = {"channel": "telegram"}
    async with answering(status, body, content_type or "application/json") as base:
        bot = make_bot(TOKEN, base)
        try:
            before = metrics.sample("chatcrm_rate_limited_total", limited)
            old = await _raised(call(bot.send_message(chat_id=CHAT, text="hi")))
            between = metrics.sample("chatcrm_rate_limited_total", limited)
            new = await _raised(send(bot, CHAT, [Reply(text="hi")]))
            after = metrics.sample("chatcrm_rate_limited_total", limited)
        finally:
            await bot.session.close()
    assert type(new) is type(old)
    assert after - between == between - before
    if isinstance(old, RateLimited):
        assert isinstance(new, RateLimited)
        if "retry_after" in body:
            assert new.retry_after == old.retry_after == 7
        else:  # a rate limit all the same, for a wait that grows while such 429s go on
            assert (old.retry_after, new.retry_after) == BARE_429_WAITS[:2]
            old = RateLimited(0, str(old).replace("Retry in 2 ", "Retry in 5 "))
    if '"description"' in body:
        assert str(new) == str(old)  # the platform's own words, kept on the outbox row


async def test_a_request_that_times_out_is_transient_as_before() -> None:
    held = asyncio.Event()

    async def handle(_request: web.Request) -> web.Response:
        await held.wait()
        return web.json_response({"ok": True, "result": True})

    app = web.Application()
    app.router.add_post("/bot{token}/{method}", handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    bot = make_bot(TOKEN, str(server.make_url("")).rstrip("/"))
    session = bot.session
    assert isinstance(session, BotSession)
    session.timeout, session.request_timeout = 0.2, ClientTimeout(total=0.2)
    try:
        old = await _raised(call(bot.send_message(chat_id=CHAT, text="hi")))
        new = await _raised(send(bot, CHAT, [Reply(text="hi")]))
    finally:
        held.set()
        await bot.session.close()
        await server.close()
    assert type(new) is type(old)
    assert str(new) == str(old) == "Request timeout error"
    assert not isinstance(new, PermanentChannelError)


def test_an_answer_is_read_as_json_not_as_a_model() -> None:
    body = {"ok": True, "result": {"message_id": 9, "date": 1, "chat": {"id": 1}}}
    result = answer_of("sendMessage", {"chat_id": 1}, 200, json.dumps(body).encode())
    assert result == body["result"]


def test_bare_429s_in_a_row_wait_longer_up_to_a_bound_and_start_over_once_one_is_accepted() -> None:
    limits = BareLimits()
    bare = json.dumps({"ok": False, "error_code": 429, "description": "Too Many"}).encode()
    accepted = json.dumps({"ok": True, "result": {"message_id": 9, "date": 1, "chat": {"id": 1}}})
    waits: list[float] = []
    for _ in range(7):
        with pytest.raises(RateLimited) as caught:
            answer_of("sendMessage", {"chat_id": 1}, 429, bare, limits)
        waits.append(caught.value.retry_after)
    answer_of("sendMessage", {"chat_id": 1}, 200, accepted.encode(), limits)
    with pytest.raises(RateLimited) as again:
        answer_of("sendMessage", {"chat_id": 1}, 429, bare, limits)
    assert waits == [2, 5, 15, 30, 60, 60, 60]
    assert again.value.retry_after == 2
    assert "Too Many" in str(again.value)


async def _read_back(post: Any) -> dict[str, Any]:
    """What a multipart reader (aiohttp's, as the Bot API's would) makes of a posted form."""
    seen: dict[str, Any] = {}

    async def handle(request: web.Request) -> web.Response:
        for name, value in (await request.post()).items():
            if isinstance(value, web.FileField):
                seen[name] = (value.filename, value.content_type, value.file.read())
            else:
                seen[name] = value
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/", handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        async with ClientSession() as client:
            await post(client, str(server.make_url("/")))
    finally:
        await server.close()
    return seen


async def test_a_form_reads_back_as_the_form_aiohttp_built_did() -> None:
    """The form built whole carries the same parts as aiohttp's ``FormData`` did: text as is,
    other values as JSON, the file with its name (quotes and non-ASCII in it) and bytes."""
    fields = {
        "chat_id": CHAT,
        "caption": 'รายงาน "<b>เดือนนี้</b>" 📈\n--',
        "parse_mode": "HTML",
        "reply_markup": {"inline_keyboard": [[{"text": "ดู", "callback_data": "r:1"}]]},
    }
    files = {"document": ('ยอดขาย "Q4".csv', b"a,b\r\n--\r\n" + PNG)}

    async def ours(client: ClientSession, url: str) -> None:
        body, headers = form(fields, files)
        await client.post(url, data=body, headers=headers)

    async def aiohttps(client: ClientSession, url: str) -> None:
        data = FormData(quote_fields=False)
        for name, value in fields.items():
            data.add_field(name, value if isinstance(value, str) else json.dumps(value))
        for name, (filename, content) in files.items():
            data.add_field(name, content, filename=filename)
        await client.post(url, data=data)

    read = await _read_back(ours)
    assert read == await _read_back(aiohttps)
    assert json.loads(read["reply_markup"]) == fields["reply_markup"]
    assert read["document"] == ('ยอดขาย "Q4".csv', "application/octet-stream", files["document"][1])
