"""LINE end to end: the real web app on one port, the fake LINE API on another, signed webhooks
POSTed over HTTP, and a customer who presses the postbacks the bot actually sent."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy import func, select

from bot.bootstrap import App
from bot.channels.line import WEBHOOK_PATH, LineChannel
from bot.core.clock import FrozenClock
from bot.i18n import t
from bot.web import build_web_app
from jobs.housekeeping import purge_expired
from simulator.fakes.line_api import FakeLineApi
from simulator.fakes.line_webhooks import (
    follow_event,
    line_settings,
    new_event_id,
    postback_event,
    sign,
    signed_webhook,
    text_event,
)
from storage.models import (
    Base,
    Branch,
    ChannelIdentity,
    Consent,
    InboxMessage,
    Member,
    ProcessedEvent,
)
from storage.raw_session import session_of

USER = "U1b2c3d4e5f60718293a4b5c6d7e8f901"
NAME = "พลอย 🌸"


class LineWorld:
    """The bot's web app served on 127.0.0.1 next to the fake API it talks to."""

    def __init__(self, app: App, fake: FakeLineApi, base_url: str) -> None:
        self.app, self.fake, self.url = app, fake, base_url + WEBHOOK_PATH
        self.seen = 0

    async def post(self, body: bytes, signature: str | None) -> int:
        headers = {"Content-Type": "application/json"}
        if signature is not None:
            headers["X-Line-Signature"] = signature
        async with (
            aiohttp.ClientSession() as session,
            session.post(self.url, data=body, headers=headers) as response,
        ):
            return response.status

    async def send(self, event: dict[str, Any]) -> list[dict[str, Any]]:
        """Deliver one signed event; the messages the user got because of it."""
        assert await self.post(*signed_webhook([event])) == 200
        sent = self.fake.messages_to(USER)
        fresh, self.seen = sent[self.seen :], len(sent)
        return fresh

    async def count(self, model: type[Base]) -> int:
        async with self.app.engine.connect() as connection:
            return int(
                (await connection.execute(select(func.count()).select_from(model))).scalar_one()
            )


@pytest.fixture
async def line(app: App) -> AsyncIterator[LineWorld]:
    fake = FakeLineApi()
    fake.add_profile(USER, "Ploy", "th")
    async with fake.running():
        channel = LineChannel(line_settings(app.settings, fake), app.bus, app.uow, app.clock)
        server = TestServer(build_web_app(app, [channel]), host="127.0.0.1")
        await server.start_server()
        try:
            yield LineWorld(app, fake, str(server.make_url("")).rstrip("/"))
        finally:
            await server.close()


def buttons(messages: list[dict[str, Any]]) -> dict[str, str]:
    """label → postback data, from quick replies and Flex buttons (the echo is the full label)."""
    found: dict[str, str] = {}
    for message in messages:
        actions = [i["action"] for i in message.get("quickReply", {}).get("items", [])]
        body = message.get("contents", {}).get("body", {})
        actions += [c["action"] for c in body.get("contents", []) if c.get("type") == "button"]
        for action in actions:
            if action["type"] == "postback":
                found[action.get("displayText") or action["label"]] = action["data"]
    return found


class Customer:
    def __init__(self, line: LineWorld) -> None:
        self.line = line
        self.shown: list[dict[str, Any]] = []

    def _token(self) -> str:
        return self.line.fake.issue_reply_token(USER)

    async def _send(self, event: dict[str, Any]) -> list[dict[str, Any]]:
        self.shown = await self.line.send(event)
        assert self.shown, "the bot did not answer"
        return self.shown

    async def follow(self) -> list[dict[str, Any]]:
        return await self._send(follow_event(USER, self._token(), self.line.app.clock.now()))

    async def say(self, text: str) -> list[dict[str, Any]]:
        return await self._send(text_event(USER, text, self._token(), self.line.app.clock.now()))

    async def press(self, label: str) -> list[dict[str, Any]]:
        offered = buttons(self.shown)
        assert label in offered, f"no button {label!r} in {list(offered)}"
        event = postback_event(USER, offered[label], self._token(), self.line.app.clock.now())
        return await self._send(event)


async def test_forged_or_missing_signature_is_4xx_with_nothing_stored_or_sent(
    line: LineWorld,
) -> None:
    body, _ = signed_webhook([text_event(USER, "สวัสดี", "tok", line.app.clock.now())])
    assert 400 <= await line.post(body, None) < 500
    assert 400 <= await line.post(body, sign(body, "not-the-secret")) < 500
    assert await line.count(ChannelIdentity) == 0
    assert await line.count(ProcessedEvent) == 0
    assert line.fake.calls == []


async def test_redelivered_event_has_one_effect(line: LineWorld) -> None:
    event_id = new_event_id()
    first = text_event(
        USER,
        "มีโปรอะไรบ้างคะ",
        line.fake.issue_reply_token(USER),
        line.app.clock.now(),
        event_id=event_id,
    )
    again = dict(
        first, deliveryContext={"isRedelivery": True}, replyToken=line.fake.issue_reply_token(USER)
    )
    await line.send(first)
    calls_after_first = len(line.fake.calls)
    assert await line.send(again) == []
    assert len(line.fake.calls) == calls_after_first
    assert await line.count(ProcessedEvent) == 1


async def test_signup_through_webhooks_creates_the_member_and_sends_a_flex_card(
    line: LineWorld,
) -> None:
    async with line.app.uow() as uow:
        session_of(uow).add(Branch(code="asoke", name_th="อโศก", name_en="Asoke", active=True))
        await uow.commit()
    me, th = Customer(line), "th"

    await me.follow()
    await me.press(t(th, "signup.accept"))
    await me.press(t(th, "signup.marketing_no"))
    await me.say(NAME)
    await me.say("081-234-5678")
    await me.say("01/05/2530")
    await me.press(t(th, "signup.gender_female"))
    shown = await me.press("อโศก")

    async with line.app.uow() as uow:
        member = (await session_of(uow).execute(select(Member))).scalar_one()
        identity = await uow.identities.get("line", USER)
        consents = (await session_of(uow).execute(select(Consent))).scalars().all()
    assert (member.name, member.phone, member.birthday) == (NAME, "+66812345678", date(1987, 5, 1))
    assert member.gender == "female"
    assert member.marketing_opt_in is False
    assert identity is not None
    assert identity.member_id == member.id
    assert {(c.purpose, c.granted) for c in consents} >= {("membership", True)}

    card = next(m for m in shown if m["type"] == "flex" and "hero" in m["contents"])
    assert card["contents"]["hero"]["url"].startswith("https://shop.example/media/")
    texts = str(card["contents"]["body"])
    assert member.member_code in texts
    assert NAME in texts


async def test_signed_event_replayed_after_its_id_is_forgotten_is_refused(
    line: LineWorld, clock: FrozenClock
) -> None:
    event = text_event(USER, "มีโปรอะไรบ้างคะ", line.fake.issue_reply_token(USER), clock.now())
    body, signature = signed_webhook([event])
    assert await line.post(body, signature) == 200
    calls = len(line.fake.calls)

    clock.advance(timedelta(days=40))
    await purge_expired(line.app)
    assert await line.count(ProcessedEvent) == 0  # the id is forgotten
    assert await line.post(body, signature) == 200  # answered, so LINE does not retry it

    assert await line.count(ProcessedEvent) == 0
    assert await line.count(InboxMessage) == 1
    assert len(line.fake.calls) == calls


async def test_event_stamped_ahead_of_the_clock_is_refused(line: LineWorld) -> None:
    ahead = line.app.clock.now() + timedelta(days=1)
    body, signature = signed_webhook([text_event(USER, "สวัสดี", "tok", ahead)])
    assert await line.post(body, signature) == 200
    assert await line.count(ProcessedEvent) == 0
    assert line.fake.calls == []


async def test_nul_bytes_and_lone_surrogates_are_cleaned_not_lost(line: LineWorld) -> None:
    event = text_event(USER, "ขอ\x00สอบถาม\ud800ค่ะ", "tok", line.app.clock.now())
    # LINE escapes them in its JSON (\u0000, \ud800), as json.dumps does by default
    body = json.dumps({"destination": "Ubot", "events": [event]}).encode()
    assert await line.post(body, sign(body)) == 200

    async with line.app.uow() as uow:
        (message,) = (await session_of(uow).execute(select(InboxMessage))).scalars().all()
    assert message.text == "ขอสอบถาม\ufffdค่ะ"
    texts = [m.get("text") for m in line.fake.messages_to(USER)]
    assert t("th", "error.internal") not in texts
