"""The LINE webhook: signature over the raw body, SDK validation, event → Inbound."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from linebot.v3 import WebhookParser
from sqlalchemy import func, select

from bot.bootstrap import App
from bot.channels.line import LineChannel
from bot.channels.line.inbound import MAX_CLOCK_SKEW, MAX_EVENT_AGE, to_inbound
from bot.core.messages import MAX_EVENT_ID_CHARS, Channel, Identity, InboundKind
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
from storage.models import ChannelIdentity, ProcessedEvent
from storage.raw_session import session_of
from storage.repositories.events import EVENT_MEMORY, TELEGRAM_EVENT_MEMORY

USER = "U4af4980629"
NOW = datetime(2026, 3, 3, 7, 30, tzinfo=UTC)


def parse(event: dict[str, Any]) -> Any:
    body, signature = signed_webhook([event])
    [parsed] = WebhookParser(CHANNEL_SECRET).parse(body.decode(), signature)
    return parsed


async def no_profile(_user_id: str) -> tuple[str | None, str | None]:
    return None, None


async def ploy(_user_id: str) -> tuple[str | None, str | None]:
    return "Ploy", "en"


# -- event → Inbound (no network, no database) --------------------------------------------


async def test_text_event_becomes_a_text_inbound_keeping_its_reply_token() -> None:
    event = text_event(USER, "สวัสดี", "tok-1", NOW, event_id="01HXYZ")
    inbound = await to_inbound(parse(event), NOW, no_profile)
    assert inbound is not None
    assert inbound.identity == Identity(Channel.LINE, USER)
    assert (inbound.kind, inbound.text, inbound.reply_token) == (InboundKind.TEXT, "สวัสดี", "tok-1")
    assert inbound.event_id == "line:01HXYZ"


async def test_postback_becomes_an_action_with_the_postback_data() -> None:
    inbound = await to_inbound(parse(postback_event(USER, "cmd:card", "t", NOW)), NOW, no_profile)
    assert inbound is not None
    assert (inbound.kind, inbound.action) == (InboundKind.ACTION, "cmd:card")


async def test_follow_takes_display_name_and_language_from_the_profile() -> None:
    inbound = await to_inbound(parse(follow_event(USER, "t", NOW)), NOW, ploy)
    assert inbound is not None
    assert (inbound.kind, inbound.display_name, inbound.language_code) == (
        InboundKind.FOLLOW,
        "Ploy",
        "en",
    )


async def test_unfollow_becomes_unfollow_without_a_reply_token() -> None:
    inbound = await to_inbound(parse(unfollow_event(USER, NOW)), NOW, no_profile)
    assert inbound is not None
    assert (inbound.kind, inbound.reply_token) == (InboundKind.UNFOLLOW, None)


async def test_standby_event_has_no_reply_token() -> None:
    event = text_event(USER, "hi", None, NOW, mode="standby")
    inbound = await to_inbound(parse(event), NOW, no_profile)
    assert inbound is not None
    assert inbound.reply_token is None


async def test_group_events_are_skipped() -> None:
    event = text_event(USER, "hi", "t", NOW)
    event["source"] = {"type": "group", "groupId": "Cgroup", "userId": USER}
    assert await to_inbound(parse(event), NOW, no_profile) is None


async def test_sticker_is_not_an_inbound() -> None:
    assert await to_inbound(parse(sticker_event(USER, "t", NOW)), NOW, no_profile) is None


# -- the HTTP endpoint ----------------------------------------------------------------------


@pytest.fixture
async def client(app: App, fake: FakeLineApi, aiohttp_client: Any) -> TestClient[Any, Any]:
    line = LineChannel(line_settings(app.settings, fake), app.bus, app.uow, app.clock)
    web_app = web.Application()
    line.register(web_app)
    web_app.on_cleanup.append(lambda _: line.close())
    client: TestClient[Any, Any] = await aiohttp_client(web_app)
    return client


async def post(client: TestClient[Any, Any], body: bytes, signature: str | None) -> int:
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["X-Line-Signature"] = signature
    async with client.post("/webhook/line", data=body, headers=headers) as response:
        return response.status


async def stored(app: App) -> tuple[int, int]:
    async with app.uow() as u:
        identities = await session_of(u).scalar(select(func.count()).select_from(ChannelIdentity))
        events = await session_of(u).scalar(select(func.count()).select_from(ProcessedEvent))
    return int(identities or 0), int(events or 0)


async def test_missing_signature_is_401_and_nothing_is_stored_or_sent(
    client: TestClient[Any, Any], app: App, fake: FakeLineApi
) -> None:
    body, _ = signed_webhook([text_event(USER, "hi", fake.issue_reply_token(USER), NOW)])
    assert await post(client, body, None) == 401
    assert await stored(app) == (0, 0)
    assert fake.calls == []


async def test_signature_of_another_body_is_401_and_nothing_is_stored_or_sent(
    client: TestClient[Any, Any], app: App, fake: FakeLineApi
) -> None:
    body, signature = signed_webhook([text_event(USER, "hi", fake.issue_reply_token(USER), NOW)])
    tampered = body.replace(b'"hi"', b'"ho"')
    assert await post(client, tampered, signature) == 401
    assert await post(client, body, sign(body, "another-secret")) == 401
    assert await stored(app) == (0, 0)
    assert fake.calls == []


async def test_url_verification_with_no_events_is_200(client: TestClient[Any, Any]) -> None:
    body = json.dumps({"destination": "Ubot", "events": []}).encode()
    assert await post(client, body, sign(body)) == 200


async def test_event_the_sdk_cannot_validate_is_400_not_500(
    client: TestClient[Any, Any], app: App
) -> None:
    event = text_event(USER, "hi", "t", NOW)
    del event["webhookEventId"]
    body, signature = signed_webhook([event])
    assert await post(client, body, signature) == 400
    assert await stored(app) == (0, 0)


async def test_body_that_is_not_json_is_400(client: TestClient[Any, Any]) -> None:
    body = b"\xff\xfe not json"
    assert await post(client, body, sign(body)) == 400


async def test_signed_text_event_is_handled_once_and_recorded(
    client: TestClient[Any, Any], app: App, fake: FakeLineApi
) -> None:
    event = text_event(USER, "สวัสดีค่ะ", fake.issue_reply_token(USER), app.clock.now())
    body, signature = signed_webhook([event])
    assert await post(client, body, signature) == 200
    assert await stored(app) == (1, 1)


async def test_sticker_gets_a_free_one_line_hint_by_reply(
    client: TestClient[Any, Any], app: App, fake: FakeLineApi
) -> None:
    body, signature = signed_webhook([sticker_event(USER, fake.issue_reply_token(USER), NOW)])
    assert await post(client, body, signature) == 200
    [call] = fake.calls
    assert (call.endpoint, call.status, len(call.messages)) == ("reply", 200, 1)


async def test_standby_event_is_recorded_but_the_bot_stays_quiet(
    client: TestClient[Any, Any], app: App, fake: FakeLineApi
) -> None:
    event = text_event(USER, "สวัสดีค่ะ", None, app.clock.now(), mode="standby")
    body, signature = signed_webhook([event])
    assert await post(client, body, signature) == 200
    assert await stored(app) == (1, 1)
    assert fake.delivered() == []


async def test_stale_event_is_answered_by_push(
    client: TestClient[Any, Any], app: App, fake: FakeLineApi
) -> None:
    old = app.clock.now() - timedelta(minutes=5)
    body, signature = signed_webhook([follow_event(USER, fake.issue_reply_token(USER), old)])
    assert await post(client, body, signature) == 200
    assert {c.endpoint for c in fake.delivered()} <= {"push"}


async def test_crash_while_handling_is_500_so_line_redelivers(
    client: TestClient[Any, Any], app: App, fake: FakeLineApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def crash(_inbound: object) -> list[object]:
        raise RuntimeError("database went away")

    monkeypatch.setattr(app.bus, "handle", crash)
    body, signature = signed_webhook([text_event(USER, "hi", "t", app.clock.now())])
    assert await post(client, body, signature) == 500
    assert fake.calls == []


def test_event_memories_outlast_redelivery_and_replays_meet_the_age_limit_first() -> None:
    # a LINE body replayed once its id is forgotten is always past the age limit
    assert MAX_EVENT_AGE + MAX_CLOCK_SKEW < EVENT_MEMORY
    # Telegram redelivers for 24 hours and may restart update_id after a quiet week; the
    # daily housekeeping forgets a row at most a day after its memory ends
    assert timedelta(days=1) < TELEGRAM_EVENT_MEMORY
    assert TELEGRAM_EVENT_MEMORY + timedelta(days=1) < timedelta(days=7)


def test_the_longest_event_id_handled_is_the_longest_the_event_log_holds() -> None:
    assert ProcessedEvent.__table__.c.event_key.type.length == MAX_EVENT_ID_CHARS


async def test_postback_data_and_profile_names_are_cleaned_of_nul() -> None:
    pressed = parse(postback_event(USER, "cmd:\x00card", "t", NOW))
    inbound = await to_inbound(pressed, NOW, no_profile)
    assert inbound is not None
    assert inbound.action == "cmd:card"

    async def odd_profile(_user_id: str) -> tuple[str | None, str | None]:
        return "Pl\x00oy\udfff", "e\x00n"

    inbound = await to_inbound(parse(follow_event(USER, "t", NOW)), NOW, odd_profile)
    assert inbound is not None
    assert (inbound.display_name, inbound.language_code) == ("Ploy\ufffd", "en")
