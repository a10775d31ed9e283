"""What the real LINE Messaging API and Telegram Bot API refuse, checked on recorded requests.

The fakes in ``simulator/fakes`` check the limits the bot trips most often; this checker adds
the documented ones they leave out, so a test can say "everything the bot sent would have been
accepted". Sources (the platforms' references):

- LINE Messaging API reference, "Message objects": text 1–5,000 characters; ``altText``
  1–1,500 characters (the product keeps 400); image ``originalContentUrl`` and
  ``previewImageUrl`` HTTPS, at most 2,000 characters; quick reply at most 13 items, label
  1–20 characters; "Action objects": postback ``data`` 1–300 characters, ``displayText``
  1–300, URI action ``uri`` at most 1,000 characters with the http, https, line or tel scheme;
  Flex "Bubble" JSON at most 30 KB, "Carousel" at most 12 bubbles and 50 KB; a Flex "Text"
  needs ``text`` (or ``contents``); a Flex "Button" label 1–40 characters; an "Image"
  component's ``url`` HTTPS, at most 2,000 characters.
- Telegram Bot API, ``sendMessage`` text 1–4,096 characters after entity parsing, captions
  0–1,024; ``InlineKeyboardButton.callback_data`` 1–64 bytes and ``text`` non-empty.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, Final
from urllib.parse import urlsplit

from simulator.fakes.line_checks import invalid_messages
from simulator.fakes.telegram_api import Call as TelegramCall
from simulator.fakes.telegram_api import visible_text

BUBBLE_BYTES: Final = 30 * 1024
CAROUSEL_BYTES: Final = 50 * 1024
CAROUSEL_BUBBLES: Final = 12
URI_SCHEMES: Final = frozenset({"http", "https", "line", "tel"})


def units(text: str) -> int:
    """LINE and Telegram count characters in UTF-16 units (an emoji above U+FFFF is two)."""
    return len(text.encode("utf-16-le")) // 2


def _json_bytes(value: Any) -> int:
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())


def _https(url: Any) -> bool:
    return isinstance(url, str) and url.startswith("https://") and len(url) <= 2000


def _action_problems(where: str, action: dict[str, Any], label_max: int) -> Iterator[str]:
    label = action.get("label")
    if label is not None and not 1 <= units(label) <= label_max:
        yield f"{where}.label has {units(label)} characters (1..{label_max})"
    kind = action.get("type")
    if kind == "postback":
        data = action.get("data", "")
        if not 1 <= len(data) <= 300:
            yield f"{where}.data has {len(data)} characters (1..300)"
        shown = action.get("displayText")
        if shown is not None and not 1 <= units(shown) <= 300:
            yield f"{where}.displayText has {units(shown)} characters (1..300)"
    if kind == "uri":
        uri = action.get("uri", "")
        if not 1 <= len(uri) <= 1000 or urlsplit(uri).scheme not in URI_SCHEMES:
            yield f"{where}.uri is not a URI LINE opens: {uri[:80]!r}"


def _component_problems(where: str, part: dict[str, Any]) -> Iterator[str]:
    kind = part.get("type")
    if kind == "text" and not part.get("text") and not part.get("contents"):
        yield f"{where}.text is empty"
    if kind == "image" and not _https(part.get("url")):
        yield f"{where}.url is not an HTTPS URL of at most 2,000 characters"
    if kind == "button":
        yield from _action_problems(f"{where}.action", part.get("action", {}), 40)
    for i, child in enumerate(part.get("contents", []) if kind == "box" else []):
        yield from _component_problems(f"{where}.contents[{i}]", child)


def _bubble_problems(where: str, bubble: dict[str, Any]) -> Iterator[str]:
    if _json_bytes(bubble) > BUBBLE_BYTES:
        yield f"{where} is {_json_bytes(bubble)} bytes of JSON (at most {BUBBLE_BYTES})"
    for block in ("header", "hero", "body", "footer"):
        if block in bubble:
            yield from _component_problems(f"{where}.{block}", bubble[block])


def line_message_problems(messages: list[dict[str, Any]]) -> list[str]:
    """Everything in ``messages`` (one request's) that LINE documents as refused."""
    problems = [f"{d['property']}: {d['message']}" for d in invalid_messages(messages)]
    for i, message in enumerate(messages):
        where, kind = f"messages[{i}]", message.get("type")
        if kind == "text" and not 1 <= units(message.get("text", "")) <= 5000:
            problems.append(f"{where}.text has {units(message.get('text', ''))} characters")
        if "altText" in message and not 1 <= units(message["altText"]) <= 1500:
            problems.append(f"{where}.altText has {units(message['altText'])} characters")
        if kind == "image":
            for key in ("originalContentUrl", "previewImageUrl"):
                if not _https(message.get(key)):
                    problems.append(f"{where}.{key} is not HTTPS: {message.get(key)!r}")
        for j, item in enumerate(message.get("quickReply", {}).get("items", [])):
            action = item.get("action", {})
            problems += _action_problems(f"{where}.quickReply.items[{j}].action", action, 20)
        contents = message.get("contents", {}) if kind == "flex" else {}
        if contents.get("type") == "bubble":
            problems += _bubble_problems(f"{where}.contents", contents)
        if contents.get("type") == "carousel":
            bubbles = contents.get("contents", [])
            if not 1 <= len(bubbles) <= CAROUSEL_BUBBLES or _json_bytes(contents) > CAROUSEL_BYTES:
                problems.append(f"{where}.contents: a carousel of {len(bubbles)} bubbles")
            for k, bubble in enumerate(bubbles):
                problems += _bubble_problems(f"{where}.contents.contents[{k}]", bubble)
    return problems


def telegram_call_problems(call: TelegramCall) -> list[str]:
    """Everything in one Bot API send that Telegram documents as refused."""
    problems: list[str] = []
    text = call.params.get("text") if call.method == "sendMessage" else call.params.get("caption")
    limit = 4096 if call.method == "sendMessage" else 1024
    if text is not None or call.method == "sendMessage":
        try:
            shown = visible_text(str(text or "")) if call.params.get("parse_mode") else str(text)
        except ValueError as error:
            problems.append(f"{call.method}: {error}")
        else:
            if call.method == "sendMessage" and not shown.strip():
                problems.append("sendMessage: message text is empty")
            if units(shown.strip()) > limit:
                problems.append(f"{call.method}: {units(shown)} characters (at most {limit})")
    for row in call.markup.get("inline_keyboard", []):
        for button in row:
            if not str(button.get("text", "")).strip():
                problems.append("an inline button without text")
            data = button.get("callback_data")
            if data is not None and not 1 <= len(data.encode()) <= 64:
                problems.append(f"callback_data of {len(data.encode())} bytes")
    return problems
