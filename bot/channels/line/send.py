"""Sending to LINE: reply with the free token, push and multicast with a retry key, one error seam.

Every ``ApiException`` of line-bot-sdk (and every network failure) is mapped to the
:mod:`bot.core.errors` channel tree here and nowhere else. The requests are the SDK's, made
without its request and answer models (:mod:`bot.channels.line.post`): they fail with the
SDK's ``ApiException`` as its methods did, so the mapping is the same for every way out.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Final

import aiohttp
from linebot.v3.messaging import ApiException, AsyncMessagingApi

from bot import metrics
from bot.channels.line.multicast import MulticastBodies
from bot.channels.line.post import (
    MULTICAST_PATH,
    PUSH_PATH,
    REPLY_PATH,
    post_json,
    push_body,
    reply_body,
)
from bot.channels.line.render import MAX_MESSAGES_PER_REQUEST, LineMessage
from bot.core.capabilities import LINE_CAPABILITIES
from bot.core.errors import (
    ChannelError,
    CredentialsRejected,
    PermanentChannelError,
    QuotaExhausted,
    RateLimited,
    TransientChannelError,
)

log = logging.getLogger(__name__)

#: seconds per API call; LINE wants the webhook answered in about 2 s, and replies are inline
REQUEST_TIMEOUT: Final = 10.0
#: waits before each retry of a push that failed with a 5xx or a timeout
DEFAULT_RETRY_DELAYS: Final = (0.5, 2.0)
#: LINE's limit on ``to`` of one multicast request
MAX_MULTICAST_RECIPIENTS: Final = LINE_CAPABILITIES.multicast_max


def error_message(error: ApiException) -> str:
    body = error.body
    if isinstance(body, bytes | bytearray):
        body = body.decode("utf-8", errors="replace")
    try:
        parsed = json.loads(body) if body else {}
    except ValueError:
        return str(body or error.reason or "")
    return str(parsed.get("message", "")) if isinstance(parsed, dict) else str(body)


def channel_error(error: ApiException) -> ChannelError:
    """The channel error for one failed API call (status and LINE's message decide)."""
    status = int(error.status or 0)
    message = error_message(error)
    if status == 429:
        metrics.count_rate_limited("line")
        if "monthly limit" in message.lower():
            metrics.set_line_quota(0, 0)  # nothing left until the month turns
            return QuotaExhausted(message)
        # LINE sends no Retry-After; a second is its own documented advice for bursts
        return RateLimited(retry_after=1.0, message=message)
    if status >= 500 or status == 0:
        return TransientChannelError(f"LINE {status}: {message}")
    if status == 401:  # the channel access token itself (revoked, reissued, mistyped)
        return CredentialsRejected(f"LINE {status}: {message}", "LINE_CHANNEL_ACCESS_TOKEN")
    return PermanentChannelError(f"LINE {status}: {message}")


def is_invalid_reply_token(error: ApiException) -> bool:
    return error.status == 400 and "invalid reply token" in error_message(error).lower()


def batches(messages: Sequence[LineMessage]) -> list[list[LineMessage]]:
    size = MAX_MESSAGES_PER_REQUEST
    return [list(messages[i : i + size]) for i in range(0, len(messages), size)]


def batch_retry_key(retry_key: str | None, index: int) -> str:
    """A UUID per request: derived from the caller's key (stable across its retries) or new."""
    if retry_key is None:
        return str(uuid.uuid4())
    return str(uuid.uuid5(uuid.UUID(retry_key), str(index)))


class LineSender:
    """Reply and push calls on one messaging API client."""

    def __init__(
        self, api: AsyncMessagingApi, retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS
    ) -> None:
        self._api = api
        self.retry_delays = tuple(retry_delays)
        self._bodies = MulticastBodies()

    async def reply(
        self,
        reply_token: str,
        messages: Sequence[LineMessage],
        fresh: Callable[[], bool] = lambda: True,
    ) -> bool:
        """Send with the free reply token; False when LINE says the token is not valid (any
        more), so the caller pushes instead. Other failures raise a :class:`ChannelError`.

        A reply takes no retry key, so a lost answer (a reset, a timeout, a 5xx) leaves open
        whether LINE took it; pushing it then could say it twice. But a token can be used
        once: the same reply sent again at once is either taken (the first was not) or
        refused as an invalid token — and a token still ``fresh`` (well inside its minute)
        is refused only because it was used, by that first try. What stays uncertain is
        raised as a :class:`TransientChannelError` (queued, then pushed: maybe twice rather
        than never): every try's answer lost, or the token too old to tell "used" from
        "expired". A token that expired between two tries would be taken for used and the
        reply lost: tries stop once the token is no longer ``fresh`` (the caller's 50 of its
        about 60 seconds), which leaves a try ten seconds for that not to happen."""
        body = reply_body(reply_token, messages)
        attempt = 0
        while True:
            try:
                await post_json(self._api, REPLY_PATH, body, None, REQUEST_TIMEOUT)
                return True
            except ApiException as error:
                if is_invalid_reply_token(error):
                    if attempt:
                        log.info("reply token used by the try whose answer was lost")
                    return attempt > 0
                failure: ChannelError = channel_error(error)
                cause: Exception = error
            except (aiohttp.ClientError, TimeoutError) as error:
                failure = TransientChannelError(f"LINE reply failed: {error!r}")
                cause = error
            if not isinstance(failure, TransientChannelError) or attempt == len(self.retry_delays):
                raise failure from cause
            await asyncio.sleep(self.retry_delays[attempt])
            attempt += 1
            if not fresh():
                raise failure from cause

    async def push(self, user_id: str, messages: Sequence[LineMessage], retry_key: str) -> None:
        """Push one request (≤ 5 messages); 5xx and timeouts are retried with the same key.

        A 409 means LINE already accepted a request with this key: that is a success.
        """
        body = push_body(user_id, messages)
        await self._keyed(
            lambda: post_json(self._api, PUSH_PATH, body, retry_key, REQUEST_TIMEOUT), retry_key
        )

    async def multicast(
        self, user_ids: Sequence[str], messages: Sequence[LineMessage], retry_key: str
    ) -> None:
        """One multicast request (≤ 500 users, ≤ 5 messages), retried like :meth:`push`."""
        if not 1 <= len(user_ids) <= MAX_MULTICAST_RECIPIENTS:
            raise ValueError(f"a multicast goes to 1..{MAX_MULTICAST_RECIPIENTS} users")
        # the SDK's own body and headers, without its model round trip over the 500 ids
        body = self._bodies(user_ids, messages)
        await self._keyed(
            lambda: post_json(self._api, MULTICAST_PATH, body, retry_key, REQUEST_TIMEOUT),
            retry_key,
        )

    async def _keyed(self, send: Callable[[], Awaitable[object]], retry_key: str) -> None:
        for attempt in range(len(self.retry_delays) + 1):
            try:
                await send()
                return
            except ApiException as error:
                if error.status == 409:
                    log.info("request %s already accepted by LINE", retry_key)
                    return
                failure: ChannelError = channel_error(error)
                cause: Exception = error
            except (aiohttp.ClientError, TimeoutError) as error:
                failure, cause = TransientChannelError(f"LINE send failed: {error!r}"), error
            if not isinstance(failure, TransientChannelError) or attempt == len(self.retry_delays):
                raise failure from cause
            await asyncio.sleep(self.retry_delays[attempt])
