"""The request checks of the fake LINE Messaging API: LINE's own validation ``details``."""

from __future__ import annotations

import json
import secrets
import uuid
from typing import Any, Final

#: LINE's reference, "Flex Message" → "Bubble": "The maximum size of JSON data that defines a
#: bubble is 30 KB"; "Carousel": at most 12 bubbles, 50 KB (measured here as compact UTF-8 JSON,
#: the most lenient reading)
BUBBLE_BYTES: Final = 30 * 1024
CAROUSEL_BYTES: Final = 50 * 1024
CAROUSEL_BUBBLES: Final = 12


def _size(text: str) -> int:
    """A length as LINE checks it: the larger of code points and UTF-16 units (an emoji
    outside the BMP is one code point, two units)."""
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


def _flex_buttons(message: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(property, action) of each button in a Flex bubble's body."""
    body = message.get("contents", {}).get("body", {})
    return [
        (f"contents.body.contents[{k}].action", part.get("action", {}))
        for k, part in enumerate(body.get("contents", []))
        if part.get("type") == "button"
    ]


def _json_bytes(value: Any) -> int:
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())


def _flex_sizes(where: str, contents: dict[str, Any]) -> list[tuple[str, int, int, int]]:
    """(property, size, lowest, highest) of a Flex container's JSON size and bubble count."""
    if contents.get("type") == "carousel":
        bubbles = contents.get("contents", [])
        return [
            (f"{where}.contents.contents", len(bubbles), 1, CAROUSEL_BUBBLES),
            (f"{where}.contents", _json_bytes(contents), 1, CAROUSEL_BYTES),
            *(
                (f"{where}.contents.contents[{k}]", _json_bytes(b), 1, BUBBLE_BYTES)
                for k, b in enumerate(bubbles)
            ),
        ]
    return [(f"{where}.contents", _json_bytes(contents), 1, BUBBLE_BYTES)]


def invalid_messages(messages: Any) -> list[dict[str, str]]:
    """LINE's validation ``details``: sizes of messages, texts, quick replies, postbacks and
    labels (quick reply 20, Flex button 40: in code points and in UTF-16 units)."""
    if not isinstance(messages, list) or not 1 <= len(messages) <= 5:
        return [{"message": "Size must be between 1 and 5", "property": "messages"}]
    checks: list[tuple[str, int, int, int]] = []  # (property, size, lowest, highest)
    for i, message in enumerate(messages):
        where = f"messages[{i}]"
        if message.get("type") == "text":
            # LINE counts a text message in UTF-16 units ("Character counting in a text")
            checks.append((f"{where}.text", _size(message.get("text", "")), 1, 5000))
        if "altText" in message:
            checks.append((f"{where}.altText", len(message["altText"]), 1, 400))
        items = message.get("quickReply", {}).get("items", [])
        checks.append((f"{where}.quickReply.items", len(items), 0, 13))
        for j, item in enumerate(items):
            action, prop = item.get("action", {}), f"{where}.quickReply.items[{j}].action"
            checks.append((f"{prop}.label", _size(action.get("label", "")), 1, 20))
            if action.get("type") == "postback":
                checks.append((f"{prop}.data", len(action.get("data", "")), 1, 300))
        if message.get("type") == "flex":
            checks += _flex_sizes(where, message.get("contents", {}))
            for prop, action in _flex_buttons(message):
                checks.append((f"{where}.{prop}.label", _size(action.get("label", "")), 1, 40))
    return [
        {"message": f"Length must be between {low} and {high}", "property": prop}
        for prop, size, low, high in checks
        if not low <= size <= high
    ]


def sent_messages(count: int) -> dict[str, Any]:
    """The body of an accepted reply or push: one ``sentMessages`` entry per message."""
    return {
        "sentMessages": [
            {"id": str(uuid.uuid4().int)[:18], "quoteToken": secrets.token_urlsafe(16)}
            for _ in range(count)
        ]
    }
