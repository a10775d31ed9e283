"""LINE webhook bodies as the platform really sends them, beyond the common four events:
group events, event types the bot has no use for in the middle of a batch, fields LINE added
after the SDK was written, non-text messages, postbacks with ``params`` or forged data — all
signed and POSTed over HTTP to the real web app, next to the fake LINE API."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from sqlalchemy import select

from bot.bootstrap import App
from bot.core.messages import Channel
from bot.i18n import t
from simulator.fakes.line_webhooks import (
    new_event_id,
    postback_event,
    sticker_event,
    text_event,
)
from storage.models import ChannelIdentity, InboxMessage, ProcessedEvent
from storage.raw_session import session_of
from tests.storage.test_line_redelivery_order import USER, Line, line
from tests.unit.staff_support import make_member

__all__ = ["line"]  # the fixture, shared with the redelivery tests

INTERNAL = t("th", "error.internal")


def _texts(line: Line) -> list[str]:
    return [m.get("text", "") for m in line.fake.messages_to(USER)]


async def _inbox(app: App) -> list[str]:
    async with app.uow() as uow:
        rows = await session_of(uow).execute(select(InboxMessage).order_by(InboxMessage.id))
        return [row.text for row in rows.scalars().all()]


async def _rows(app: App, model: Any) -> int:
    async with app.uow() as uow:
        return len((await session_of(uow).execute(select(model))).scalars().all())


def _bare(kind: str, line: Line, **fields: Any) -> dict[str, Any]:
    return {
        "type": kind,
        "mode": "active",
        "timestamp": int(line.app.clock.now().timestamp() * 1000),
        "source": {"type": "user", "userId": USER},
        "webhookEventId": new_event_id(),
        "deliveryContext": {"isRedelivery": False},
        **fields,
    }


async def test_group_events_are_skipped_with_nothing_stored(line: Line) -> None:
    """The OA invited to a group: ``join``, ``memberJoined`` and a member's text there."""
    now = line.app.clock.now()
    in_group = text_event(USER, "/points", line.fake.issue_reply_token(USER), now)
    in_group["source"] = {"type": "group", "groupId": "C0123", "userId": USER}
    joined = _bare(
        "memberJoined",
        line,
        replyToken="tok",
        source={"type": "group", "groupId": "C0123"},
        joined={"members": [{"type": "user", "userId": USER}]},
    )
    bot_joined = _bare("join", line, replyToken="tok2", source={"type": "group", "groupId": "C1"})
    assert await line.post(bot_joined, joined, in_group) == 200
    assert await _rows(line.app, ChannelIdentity) == 0
    assert await _inbox(line.app) == []
    assert line.fake.delivered() == []


async def test_an_unknown_event_between_two_texts_leaves_both_texts_handled(line: Line) -> None:
    now = line.app.clock.now()
    first = text_event(USER, "สวัสดีค่ะ", line.fake.issue_reply_token(USER), now)
    video = _bare(
        "videoPlayComplete",
        line,
        replyToken=line.fake.issue_reply_token(USER),
        videoPlayComplete={"trackingId": "promo-1"},
    )
    second = text_event(USER, "เปิดกี่โมงคะ", line.fake.issue_reply_token(USER), now)
    assert await line.post(first, video, second) == 200
    assert await _inbox(line.app) == ["สวัสดีค่ะ", "เปิดกี่โมงคะ"]
    assert await _rows(line.app, ProcessedEvent) == 2


async def test_fields_line_added_later_do_not_stop_a_command(line: Line) -> None:
    """``markAsReadToken``, ``quotedMessageId`` and a top-level field of tomorrow's API."""
    await make_member(line.app, "Ploy", "0812345678", user_id=USER, channel=Channel.LINE)
    event = text_event(USER, "/points", line.fake.issue_reply_token(USER), line.app.clock.now())
    event["message"] |= {"markAsReadToken": "30yhdy232", "quotedMessageId": "468789577898262530"}
    event["futureField"] = {"anything": [1, 2]}
    assert await line.post(event) == 200
    [answer] = _texts(line)
    assert "แต้ม" in answer  # the balance, not an error


async def test_a_sticker_location_or_photo_gets_the_hint_and_reaches_no_inbox(line: Line) -> None:
    now = line.app.clock.now()
    where = text_event(USER, "-", line.fake.issue_reply_token(USER), now)
    where["message"] = {
        "type": "location",
        "id": "4684",
        "title": "ร้าน",
        "address": "อโศก กรุงเทพฯ",
        "latitude": 13.7375,
        "longitude": 100.5604,
    }
    photo = text_event(USER, "-", line.fake.issue_reply_token(USER), now)
    photo["message"] = {
        "type": "image",
        "id": "3546",
        "quoteToken": "q-photo",
        "contentProvider": {"type": "line"},
    }
    for event in (sticker_event(USER, line.fake.issue_reply_token(USER), now), where, photo):
        assert await line.post(copy.deepcopy(event)) == 200
    assert _texts(line) == [t("th", "line.unsupported_message")] * 3
    assert await _inbox(line.app) == []


async def test_a_postback_with_datetime_params_is_read_by_its_data(line: Line) -> None:
    """A datetime-picker's postback carries ``params``; its data is still the action."""
    await make_member(line.app, "Ploy", "0812345678", user_id=USER, channel=Channel.LINE)
    event = postback_event(USER, "cmp:41", line.fake.issue_reply_token(USER), line.app.clock.now())
    event["postback"]["params"] = {"datetime": "2026-03-03T10:00"}
    assert await line.post(event) == 200
    assert _texts(line) == [t("th", "tracking.not_for_you")]


async def test_an_english_members_sticker_is_answered_in_english(line: Line) -> None:
    await make_member(
        line.app, "Ploy", "0812345678", user_id=USER, channel=Channel.LINE, locale="en"
    )
    event = sticker_event(USER, line.fake.issue_reply_token(USER), line.app.clock.now())
    assert await line.post(event) == 200
    assert _texts(line) == [t("en", "line.unsupported_message")]


async def test_a_postback_with_an_id_past_any_row_is_no_internal_error(line: Line) -> None:
    await make_member(line.app, "Ploy", "0812345678", user_id=USER, channel=Channel.LINE)
    data = "cmp:" + "9" * 40
    event = postback_event(USER, data, line.fake.issue_reply_token(USER), line.app.clock.now())
    assert await line.post(event) == 200
    assert _texts(line) == [t("th", "tracking.not_for_you")]


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"timestamp": 10**20}, id="timestamp-past-any-date"),
        pytest.param({"webhookEventId": "0" * 2000}, id="event-id-past-the-column"),
        pytest.param({"timestamp": 1.5e12}, id="timestamp-as-float"),
        pytest.param({"deliveryContext": None}, id="no-delivery-context"),
    ],
)
async def test_a_signed_event_of_the_wrong_shape_is_refused_or_skipped_never_a_500(
    line: Line, change: dict[str, Any]
) -> None:
    """Signed, so from LINE; of a shape no event has. A 5xx makes LINE redeliver the body,
    and the same body fails the same way each time: a 4xx (nothing stored) or a 200 ends it."""
    event = text_event(USER, "สวัสดี", line.fake.issue_reply_token(USER), line.app.clock.now())
    status = await line.post(event | change)
    assert status in (200, 400)
    if status == 400:
        assert await _rows(line.app, ProcessedEvent) == 0
        assert await _inbox(line.app) == []


async def test_events_of_impossible_shapes_are_skipped_alone(line: Line) -> None:
    """A stamp past any date and an id longer than the event log holds, between two texts:
    both skipped (nothing stored of them), both texts handled, the body answered 200."""
    now = line.app.clock.now()
    first = text_event(USER, "สวัสดีค่ะ", line.fake.issue_reply_token(USER), now)
    far = text_event(USER, "far", None, now) | {"timestamp": 10**20}
    long_id = text_event(USER, "long", None, now) | {"webhookEventId": "0" * 2000}
    second = text_event(USER, "เปิดกี่โมงคะ", line.fake.issue_reply_token(USER), now)
    assert await line.post(first, far, long_id, second) == 200
    assert await _inbox(line.app) == ["สวัสดีค่ะ", "เปิดกี่โมงคะ"]
    assert await _rows(line.app, ProcessedEvent) == 2
