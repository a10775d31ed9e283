"""Signed LINE webhook bodies and event builders, shaped as line-bot-sdk v3 accepts them.

Text events carry ``quoteToken`` and follow events ``follow.isUnblocked``: without them the SDK
parses the event as ``UnknownEvent``. Reply tokens come from ``FakeLineApi.issue_reply_token``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import uuid
from datetime import datetime
from typing import Any, Protocol

from bot.config import Settings
from simulator.fakes.line_api import CHANNEL_SECRET


def sign(body: bytes, secret: str = CHANNEL_SECRET) -> str:
    """``X-Line-Signature``: base64(HMAC-SHA256(channel secret, raw body))."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def signed_webhook(
    events: list[dict[str, Any]], secret: str = CHANNEL_SECRET, destination: str = "Ubot"
) -> tuple[bytes, str]:
    """``(body, signature)`` of a webhook delivery carrying ``events``."""
    body = json.dumps({"destination": destination, "events": events}, ensure_ascii=False).encode()
    return body, sign(body, secret)


def new_event_id() -> str:
    """A ULID-shaped id like LINE's ``webhookEventId``."""
    return secrets.token_hex(13).upper()


def _event(
    kind: str,
    user_id: str,
    at: datetime,
    *,
    event_id: str | None,
    redelivery: bool,
    mode: str,
    reply_token: str | None,
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "type": kind,
        "mode": mode,
        "timestamp": int(at.timestamp() * 1000),
        "source": {"type": "user", "userId": user_id},
        "webhookEventId": event_id or new_event_id(),
        "deliveryContext": {"isRedelivery": redelivery},
    }
    if reply_token is not None:
        event["replyToken"] = reply_token
    return event


def follow_event(
    user_id: str,
    reply_token: str,
    at: datetime,
    *,
    unblocked: bool = False,
    event_id: str | None = None,
    redelivery: bool = False,
    mode: str = "active",
) -> dict[str, Any]:
    event = _event(
        "follow",
        user_id,
        at,
        event_id=event_id,
        redelivery=redelivery,
        mode=mode,
        reply_token=reply_token,
    )
    event["follow"] = {"isUnblocked": unblocked}
    return event


def unfollow_event(
    user_id: str, at: datetime, *, event_id: str | None = None, redelivery: bool = False
) -> dict[str, Any]:
    return _event(
        "unfollow",
        user_id,
        at,
        event_id=event_id,
        redelivery=redelivery,
        mode="active",
        reply_token=None,
    )


def text_event(
    user_id: str,
    text: str,
    reply_token: str | None,
    at: datetime,
    *,
    event_id: str | None = None,
    redelivery: bool = False,
    mode: str = "active",
) -> dict[str, Any]:
    event = _event(
        "message",
        user_id,
        at,
        event_id=event_id,
        redelivery=redelivery,
        mode=mode,
        reply_token=reply_token,
    )
    event["message"] = {
        "type": "text",
        "id": str(uuid.uuid4().int)[:18],
        "text": text,
        "quoteToken": secrets.token_urlsafe(16),
    }
    return event


def sticker_event(user_id: str, reply_token: str, at: datetime) -> dict[str, Any]:
    event = _event(
        "message",
        user_id,
        at,
        event_id=None,
        redelivery=False,
        mode="active",
        reply_token=reply_token,
    )
    event["message"] = {
        "type": "sticker",
        "id": str(uuid.uuid4().int)[:18],
        "packageId": "446",
        "stickerId": "1988",
        "stickerResourceType": "STATIC",
        "quoteToken": secrets.token_urlsafe(16),
    }
    return event


def postback_event(
    user_id: str,
    data: str,
    reply_token: str | None,
    at: datetime,
    *,
    event_id: str | None = None,
    redelivery: bool = False,
    mode: str = "active",
) -> dict[str, Any]:
    event = _event(
        "postback",
        user_id,
        at,
        event_id=event_id,
        redelivery=redelivery,
        mode=mode,
        reply_token=reply_token,
    )
    event["postback"] = {"data": data}
    return event


class LineEndpoint(Protocol):
    """Where a fake LINE API answers and the token it takes: a :class:`FakeLineApi` running
    here, or one served in another process (the fan-out bench's)."""

    @property
    def base_url(self) -> str: ...
    @property
    def access_token(self) -> str: ...


def line_settings(settings: Settings, api: LineEndpoint) -> Settings:
    """``settings`` with the LINE channel switched on and pointed at the running fake."""
    return settings.model_copy(
        update={
            "line_channel_secret": CHANNEL_SECRET,
            "line_channel_access_token": api.access_token,
            "line_api_base": api.base_url,
            "line_data_api_base": api.base_url,
        }
    )
