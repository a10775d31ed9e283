"""A staff answer to a LINE customer, end to end: signed webhooks into the real web app, the
answer through the outbox and the dispatcher to the fake LINE API — free with the customer's
reply token while it is fresh, pushed (with a retry key) when it is stale or refused."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from bot.bootstrap import App
from bot.channels.line import WEBHOOK_PATH, LineChannel
from bot.core.messages import Channel
from bot.web import build_web_app
from jobs.dispatcher import OutboxDispatcher
from simulator.fakes.line_api import FakeLineApi
from simulator.fakes.line_webhooks import line_settings, signed_webhook, text_event
from tests.chat import Chat
from tests.unit.dispatcher_support import FakeTelegram
from tests.unit.inbox_support import threads
from tests.unit.staff_support import staff_chat

USER = "U0a1b2c3d4e5f60718293a4b5c6d7e8f9"
ANSWER = "เปิด 10 โมงค่ะ"


@dataclass
class World:
    app: App
    fake: FakeLineApi
    channel: LineChannel
    url: str

    async def say(self, text: str) -> None:
        token = self.fake.issue_reply_token(USER)
        event = text_event(USER, text, token, self.app.clock.now())
        body, signature = signed_webhook([event])
        headers = {"Content-Type": "application/json", "X-Line-Signature": signature}
        async with (
            aiohttp.ClientSession() as session,
            session.post(self.url, data=body, headers=headers) as response,
        ):
            assert response.status == 200

    async def staff_answers(self, text: str) -> None:
        owner = Chat(self.app, user_id="own1", channel=Channel.TELEGRAM)
        [thread] = await threads(self.app)
        await owner.press(f"ibr:{thread.id}")
        await owner.say(text)

    async def dispatch(self) -> None:
        channels = {Channel.LINE: self.channel, Channel.TELEGRAM: FakeTelegram()}
        await OutboxDispatcher(self.app.uow, self.app.clock, channels).drain_once()

    def answer_calls(self, endpoint: str) -> list[str]:
        return [
            m["text"]
            for call in self.fake.calls_to(endpoint)
            if call.status == 200
            for m in call.messages
            if ANSWER in m.get("text", "")
        ]


@pytest.fixture
async def world(app: App) -> AsyncIterator[World]:
    await staff_chat(app, "own1", "owner")
    fake = FakeLineApi()
    fake.add_profile(USER, "Ploy", "th")
    async with fake.running():
        channel = LineChannel(line_settings(app.settings, fake), app.bus, app.uow, app.clock)
        server = TestServer(build_web_app(app, [channel]), host="127.0.0.1")
        await server.start_server()
        try:
            url = str(server.make_url("")).rstrip("/") + WEBHOOK_PATH
            yield World(app, fake, channel, url)
        finally:
            await server.close()
            await channel.close()


async def test_a_fresh_reply_token_carries_the_answer_for_free(world: World) -> None:
    await world.say("สวัสดีค่ะ")  # opens the thread; the acknowledgement spends this token
    await world.say("พรุ่งนี้เปิดกี่โมงคะ")  # nobody answers this one: its token is kept
    world.app.clock.advance(timedelta(seconds=20))  # type: ignore[attr-defined]
    await world.staff_answers(ANSWER)
    await world.dispatch()
    assert len(world.answer_calls("reply")) == 1
    assert world.answer_calls("push") == []


async def test_a_stale_reply_token_falls_back_to_push_with_a_retry_key(world: World) -> None:
    await world.say("สวัสดีค่ะ")
    await world.say("พรุ่งนี้เปิดกี่โมงคะ")
    world.app.clock.advance(timedelta(minutes=5))  # type: ignore[attr-defined]
    await world.staff_answers(ANSWER)
    await world.dispatch()
    assert world.answer_calls("reply") == []
    assert len(world.answer_calls("push")) == 1
    [push] = [c for c in world.fake.calls_to("push") if c.status == 200]
    assert push.headers.get("X-Line-Retry-Key") or push.headers.get("x-line-retry-key")


async def test_a_refused_reply_token_falls_back_to_push(world: World) -> None:
    await world.say("สวัสดีค่ะ")
    await world.say("พรุ่งนี้เปิดกี่โมงคะ")
    world.fake.fail("reply", 400, "Invalid reply token")
    await world.staff_answers(ANSWER)
    await world.dispatch()
    assert world.answer_calls("reply") == []
    assert len(world.answer_calls("push")) == 1
