"""Replies as JSON: how a message waits in the outbox until the dispatcher sends it.

The form is versioned (``{"v": 1, "replies": [...]}``) because outbox rows outlive the code that
wrote them: a row queued before an upgrade is still sent after it. Bytes (attachments, the
member card's QR image) travel as base64. ``payload_to_replies(replies_to_payload(r)) == r``
holds for every value, ``meta`` included (which ``Reply.__eq__`` ignores).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Final

from bot.core.messages import Attachment, Button, ButtonKind, MemberCardView, Reply

WIRE_VERSION: Final = 1


class WireFormatError(ValueError):
    """A payload that is not a version this code can read, or is malformed."""


def replies_to_payload(replies: Sequence[Reply]) -> dict[str, Any]:
    """The JSON-serialisable form of ``replies`` (plain dicts, lists, str, int, bool)."""
    return {"v": WIRE_VERSION, "replies": [_reply(reply) for reply in replies]}


def payload_to_replies(payload: Mapping[str, Any]) -> list[Reply]:
    """The replies a payload holds; raises :class:`WireFormatError` when it cannot be read."""
    if not isinstance(payload, Mapping) or payload.get("v") != WIRE_VERSION:
        raise WireFormatError(f"unsupported outbox payload version: {_version(payload)!r}")
    items = payload.get("replies")
    if not isinstance(items, list):
        raise WireFormatError("outbox payload has no list of replies")
    try:
        return [_from_reply(item) for item in items]
    except (KeyError, TypeError, ValueError, binascii.Error) as error:
        raise WireFormatError(f"malformed outbox payload: {error!r}") from error


def _version(payload: object) -> object:
    return payload.get("v") if isinstance(payload, Mapping) else type(payload).__name__


def _b64(content: bytes) -> str:
    return base64.b64encode(content).decode("ascii")


def _unb64(text: str) -> bytes:
    if not isinstance(text, str):
        raise TypeError("base64 content must be a string")
    return base64.b64decode(text.encode("ascii"), validate=True)


def _reply(reply: Reply) -> dict[str, Any]:
    out: dict[str, Any] = {"text": reply.text}
    if reply.buttons:
        out["buttons"] = [
            {"label": b.label, "action": b.action, "kind": b.kind.value, "url": b.url}
            for b in reply.buttons
        ]
    if reply.attachment is not None:
        a = reply.attachment
        out["attachment"] = {
            "filename": a.filename,
            "mime_type": a.mime_type,
            "content": _b64(a.content),
        }
        if a.valid_until is not None:
            out["attachment"]["valid_until"] = a.valid_until.isoformat()
        if a.coupon_id is not None:
            out["attachment"]["coupon_id"] = a.coupon_id
    if reply.card is not None:
        c = reply.card
        out["card"] = {
            "name": c.name,
            "member_code": c.member_code,
            "tier": c.tier,
            "points": c.points,
            "qr_payload": c.qr_payload,
            "qr_png": _b64(c.qr_png),
        }
    if reply.meta:
        out["meta"] = dict(reply.meta)
    return out


def _str(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value


def _moment(value: object) -> datetime | None:
    return None if value is None else datetime.fromisoformat(_str(value))


def _int_or_none(value: object) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError("expected an integer")
    return value


def _from_reply(item: Mapping[str, Any]) -> Reply:
    buttons = tuple(
        Button(
            label=_str(b["label"]),
            action=_str(b.get("action", "")),
            kind=ButtonKind(b.get("kind", ButtonKind.ACTION.value)),
            url=_str(b.get("url", "")),
        )
        for b in item.get("buttons", ())
    )
    attachment = None
    if (a := item.get("attachment")) is not None:
        attachment = Attachment(
            filename=_str(a["filename"]),
            content=_unb64(a["content"]),
            mime_type=_str(a["mime_type"]),
            valid_until=_moment(a.get("valid_until")),
            coupon_id=_int_or_none(a.get("coupon_id")),
        )
    card = None
    if (c := item.get("card")) is not None:
        points = c["points"]
        if not isinstance(points, int) or isinstance(points, bool):
            raise TypeError("card points must be an integer")
        card = MemberCardView(
            name=_str(c["name"]),
            member_code=_str(c["member_code"]),
            tier=_str(c["tier"]),
            points=points,
            qr_payload=_str(c["qr_payload"]),
            qr_png=_unb64(c["qr_png"]),
        )
    meta = {_str(k): _str(v) for k, v in dict(item.get("meta", {})).items()}
    return Reply(
        text=_str(item.get("text", "")),
        buttons=buttons,
        attachment=attachment,
        card=card,
        meta=meta,
    )
