"""The request checks of the fake LINE Messaging API: LINE's own validation ``details``."""

from __future__ import annotations

import secrets
import uuid
from typing import Any


def invalid_messages(messages: Any) -> list[dict[str, str]]:
    """LINE's validation ``details``: sizes of messages, texts, quick replies, postbacks."""
    if not isinstance(messages, list) or not 1 <= len(messages) <= 5:
        return [{"message": "Size must be between 1 and 5", "property": "messages"}]
    checks: list[tuple[str, int, int, int]] = []  # (property, size, lowest, highest)
    for i, message in enumerate(messages):
        where = f"messages[{i}]"
        if message.get("type") == "text":
            checks.append((f"{where}.text", len(message.get("text", "")), 1, 5000))
        if "altText" in message:
            checks.append((f"{where}.altText", len(message["altText"]), 1, 400))
        items = message.get("quickReply", {}).get("items", [])
        checks.append((f"{where}.quickReply.items", len(items), 0, 13))
        for j, item in enumerate(items):
            action, prop = item.get("action", {}), f"{where}.quickReply.items[{j}].action"
            checks.append((f"{prop}.label", len(action.get("label", "")), 1, 20))
            if action.get("type") == "postback":
                checks.append((f"{prop}.data", len(action.get("data", "")), 1, 300))
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
