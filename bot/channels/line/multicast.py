"""One multicast request to LINE without line-bot-sdk's model round trip over its recipients.

The SDK's ``AsyncMessagingApi.multicast`` validates a ``MulticastRequest`` (pydantic) and
serialises it back, element by element: for a campaign that is 500 ``to`` ids per request,
twice, in the dispatcher's one thread. Here the messages still go through the SDK's models
(once per distinct content, with one recipient, so they are checked and written exactly as the
SDK writes them), the recipients are put into that same body as they are, and the request is
made as the SDK makes it (:func:`bot.channels.line.post.post_json`), so LINE receives the same
bytes and headers as from ``multicast`` — ``tests/adapters/test_line_multicast_body.py``
compares the two.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from linebot.v3.messaging import MulticastRequest

from bot.channels.line.render import LineMessage


def multicast_body(user_ids: Sequence[str], messages: Sequence[LineMessage]) -> dict[str, Any]:
    """The JSON body the SDK's ``MulticastRequest`` gives for ``user_ids`` and ``messages``:
    the messages validated and serialised by it, the recipients (strings) as they are."""
    request = MulticastRequest.from_dict({"to": [user_ids[0]], "messages": list(messages)})
    body: dict[str, Any] = request.to_dict()
    body["to"] = list(user_ids)
    return body


class MulticastBodies:
    """:func:`multicast_body`, with the SDK's work done once per distinct content: a
    campaign's requests all carry the same messages."""

    def __init__(self, size: int = 8) -> None:
        self._size = size
        self._made: dict[str, dict[str, Any]] = {}

    def __call__(self, user_ids: Sequence[str], messages: Sequence[LineMessage]) -> dict[str, Any]:
        try:
            content = json.dumps(messages, sort_keys=True, separators=(",", ":"))
        except (TypeError, ValueError):  # not plain JSON: the SDK says what is wrong with it
            return multicast_body(user_ids, messages)
        made = self._made.get(content)
        if made is None:
            if len(self._made) >= self._size:
                self._made.clear()
            made = self._made[content] = multicast_body(user_ids, messages)
        return {**made, "to": list(user_ids)}  # "to" keeps its place, first
