"""Messages to LINE as JSON through the SDK client's own session, without its models.

line-bot-sdk's ``reply_message`` / ``push_message`` / ``multicast`` validate the request into
pydantic models, serialise them back (``to_dict``, ``sanitize_for_serialization``) and read
each answer into another model that nobody here reads. :func:`post_json` makes the same
request as those methods — the same URL, headers in the same order (``X-Line-Retry-Key``,
``Accept``, ``Content-Type``, then the client's defaults: ``Authorization``, ``User-Agent``),
the same bearer auth, the same aiohttp session with its proxy (:mod:`bot.channels.line.client`)
and per-request timeout, through the client's own ``request`` — so a refusal raises the SDK's
``ApiException`` exactly as the SDK's methods did, for :mod:`bot.channels.line.send` to map.

The reply and push bodies are built here as the SDK's request models write them:
:func:`reply_body` and :func:`push_body` add the one default the SDK's ``to_dict`` adds
(``notificationDisabled: false``); the messages are what :mod:`bot.channels.line.render` made,
which writes every default the SDK's message models add (``tests/adapters/
test_line_send_body.py`` compares the parsed bodies with the SDK's for every shape the
renderer makes).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from linebot.v3.messaging import ApiException, AsyncMessagingApi

from bot.channels.line.render import LineMessage

REPLY_PATH: Final = "/v2/bot/message/reply"
PUSH_PATH: Final = "/v2/bot/message/push"
MULTICAST_PATH: Final = "/v2/bot/message/multicast"
_JSON: Final = "application/json"


def reply_body(reply_token: str, messages: Sequence[LineMessage]) -> dict[str, Any]:
    """The body ``ReplyMessageRequest.from_dict({...}).to_dict()`` gives."""
    return {"replyToken": reply_token, "messages": list(messages), "notificationDisabled": False}


def push_body(user_id: str, messages: Sequence[LineMessage]) -> dict[str, Any]:
    """The body ``PushMessageRequest.from_dict({...}).to_dict()`` gives."""
    return {"to": user_id, "messages": list(messages), "notificationDisabled": False}


async def post_json(
    api: AsyncMessagingApi,
    path: str,
    body: dict[str, Any],
    retry_key: str | None,
    seconds: float,
) -> None:
    """POST ``body`` to ``path`` as the SDK's message methods do; a refusal raises the SDK's
    ``ApiException`` (its body as text, as the SDK hands it to its callers)."""
    client = api.api_client
    headers = {} if retry_key is None else {"X-Line-Retry-Key": retry_key}
    headers["Accept"] = _JSON
    headers["Content-Type"] = _JSON
    headers.update(client.default_headers)
    client.update_params_for_auth(headers, [], ["Bearer"], path, "POST", body)
    host = client.configuration.host or api.line_base_path
    try:
        await client.request(
            "POST",
            host + path,
            query_params=[],
            headers=headers,
            post_params=[],
            body=body,
            _preload_content=True,
            _request_timeout=seconds,
        )
    except ApiException as error:
        if error.body:
            error.body = error.body.decode("utf-8")
        raise
