"""The SDK clients the channels build: what they look up once instead of on every request."""

from __future__ import annotations

import gc
import json
import weakref

import pytest
from aiogram.methods import SendMessage

from bot.channels.line.client import api_client
from bot.channels.telegram import make_bot
from handlers.group_commit import BATCH_LIMIT, PG_RUNNERS
from jobs.dispatcher import CONCURRENCY

ANSWER = json.dumps(
    {
        "ok": True,
        "result": {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"}, "text": "x"},
    }
)


async def test_line_client_takes_the_environment_proxy_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://user:secret@proxy.example:3128")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    client = api_client("https://api.line.me", "token")
    try:
        assert client.rest_client.proxy == "http://user:secret@proxy.example:3128"
        assert client.rest_client.pool_manager.trust_env is False
    finally:
        await client.close()


async def test_line_client_without_a_proxy_goes_direct(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    client = api_client("https://api.line.me", "token")
    try:
        assert client.rest_client.proxy is None
    finally:
        await client.close()


async def test_telegram_answers_are_read_with_one_class_per_method() -> None:
    bot = make_bot("123456:" + "A" * 35, "http://127.0.0.1:1")
    try:
        method = SendMessage(chat_id=1, text="x")
        answer_type = weakref.ref(type(bot.session.check_response(bot, method, 200, ANSWER)))
        gc.collect()
        assert answer_type() is not None  # kept, not built again for the next answer
        again = bot.session.check_response(bot, method, 200, ANSWER)
        assert type(again) is answer_type()
        assert again.result is not None
        assert again.result.message_id == 1
    finally:
        await bot.session.close()


async def test_line_client_has_a_connection_for_every_reply_a_commit_releases() -> None:
    # the SDK's own pool is five connections per CPU: on two cores the eleventh reply of a batch
    # waited for one of the first ten to come back before it was sent
    client = api_client("https://api.line.me", "token")
    try:
        limit = client.rest_client.pool_manager.connector.limit
        assert limit >= BATCH_LIMIT * PG_RUNNERS + CONCURRENCY
    finally:
        await client.close()
