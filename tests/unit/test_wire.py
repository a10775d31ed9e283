"""The outbox wire format: every Reply survives JSON storage exactly; bad payloads are refused."""

from __future__ import annotations

import json
from datetime import UTC

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.messages import (
    MAX_ACTION_BYTES,
    Attachment,
    Button,
    ButtonKind,
    MemberCardView,
    Reply,
)
from bot.core.wire import WireFormatError, payload_to_replies, replies_to_payload

texts = st.text(max_size=40)
actions = st.text(min_size=1, max_size=16).filter(lambda a: 0 < len(a.encode()) <= MAX_ACTION_BYTES)
buttons = st.one_of(
    st.builds(Button, label=texts, action=actions, kind=st.just(ButtonKind.ACTION), url=texts),
    st.builds(Button, label=texts, action=texts, kind=st.just(ButtonKind.SHARE_CONTACT), url=texts),
    st.builds(Button, label=texts, action=texts, kind=st.just(ButtonKind.URL), url=texts),
)
attachments = st.builds(
    Attachment,
    filename=texts,
    content=st.binary(max_size=64),
    mime_type=texts,
    valid_until=st.none() | st.datetimes(timezones=st.just(UTC)),
    coupon_id=st.none() | st.integers(min_value=1, max_value=2**31),
)
cards = st.builds(
    MemberCardView,
    name=texts,
    member_code=texts,
    tier=texts,
    points=st.integers(min_value=-(2**53), max_value=2**53),
    qr_payload=texts,
    qr_png=st.binary(max_size=64),
)
replies = st.builds(
    Reply,
    text=texts,
    buttons=st.lists(buttons, max_size=4).map(tuple),
    attachment=st.none() | attachments,
    card=st.none() | cards,
    meta=st.dictionaries(texts, texts, max_size=3),
)


@given(st.lists(replies, max_size=4))
def test_replies_round_trip_through_json_exactly(values: list[Reply]) -> None:
    stored = json.loads(json.dumps(replies_to_payload(values)))
    back = payload_to_replies(stored)
    assert back == values
    assert [r.meta for r in back] == [r.meta for r in values]  # Reply.__eq__ ignores meta


def test_payload_is_versioned() -> None:
    assert replies_to_payload([Reply(text="hi")]) == {"v": 1, "replies": [{"text": "hi"}]}


def test_bytes_travel_as_base64_text() -> None:
    reply = Reply(attachment=Attachment("a.png", b"\x89PNG\x00", "image/png"))
    payload = replies_to_payload([reply])
    assert payload["replies"][0]["attachment"]["content"] == "iVBORwA="


@pytest.mark.parametrize(
    "payload",
    [
        {"v": 2, "replies": []},
        {"replies": []},
        {"v": 1},
        {"v": 1, "replies": [{"buttons": [{"label": "x", "action": "", "kind": "action"}]}]},
        {"v": 1, "replies": [{"attachment": {"filename": "a", "mime_type": "x", "content": "!"}}]},
        {"v": 1, "replies": [{"buttons": [{"label": "x", "kind": "teleport"}]}]},
        {"v": 1, "replies": [{"text": 5}]},
    ],
)
def test_unreadable_payloads_raise_wire_format_error(payload: dict[str, object]) -> None:
    with pytest.raises(WireFormatError):
        payload_to_replies(payload)
