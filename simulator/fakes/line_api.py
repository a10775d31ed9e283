"""A fake LINE Messaging API on 127.0.0.1 (webhook builders are in ``line_webhooks``).

It answers as the real API does where the bot can tell the difference (status codes, error
bodies, ``sentMessages``, single-use reply tokens, ``X-Line-Retry-Key`` → 409) and records
every call so tests assert on what the bot actually sent. Failures are injected per endpoint
(``fail("push", 429, ...)``); a monthly quota counter can be switched on with ``quota_limit``.
:meth:`FakeLineApi._gate` also enforces the per-endpoint ``rates`` (reply and push 2,000,
multicast 200 a second → 429), counts accepted requests per second in ``accepted`` and, for
multicasts, ``recipients``; ``keep_calls=False`` keeps only those counts (benchmarks).
``after_accept`` runs between accepting a push or multicast and answering it
(a test can hold the answer there, as if the process died while LINE was answering).
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from simulator.fakes.line_checks import invalid_messages, sent_messages
from simulator.fakes.line_richmenus import RichMenuRoutes
from simulator.fakes.rate_window import RateRecord, WindowLimit

ACCESS_TOKEN = "test-line-access-token"
CHANNEL_SECRET = "test-line-channel-secret"

RATE_LIMIT_MESSAGE = "The API rate limit has been exceeded. Try again later."
MONTHLY_LIMIT_MESSAGE = "You have reached your monthly limit."
INVALID_REPLY_TOKEN = "Invalid reply token"


@dataclass
class Call:
    """One request the bot made: what it sent and what the fake answered."""

    endpoint: str
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    json: Any
    status: int = 0
    #: whom a reply went to (the user its reply token was issued for)
    recipient: str | None = None

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list(self.json.get("messages", [])) if isinstance(self.json, dict) else []


@dataclass
class _Failure:
    status: int
    body: dict[str, Any]
    times: int


@dataclass
class FakeLineApi(RichMenuRoutes):
    access_token: str = ACCESS_TOKEN
    #: set by :meth:`running`: where the fake listens (no trailing slash)
    base_url: str = ""
    #: None: unlimited (``{"type":"none"}``); a number turns on the monthly quota counter
    quota_limit: int | None = None
    quota_used: int = 0
    profiles: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    rich_menus: dict[str, dict[str, Any]] = field(default_factory=dict)
    rich_menu_images: dict[str, bytes] = field(default_factory=dict)
    default_rich_menu: str | None = None
    user_rich_menus: dict[str, str] = field(default_factory=dict)
    rates: dict[str, WindowLimit] = field(
        default_factory=lambda: {
            "reply": WindowLimit(2000),
            "push": WindowLimit(2000),
            "multicast": WindowLimit(200),
        }
    )
    #: accepted requests per whole second and refusals (429), per endpoint
    accepted: dict[str, RateRecord] = field(default_factory=dict)
    #: accepted multicast recipients, counted even when ``keep_calls`` is off
    recipients: int = 0
    #: False: do not keep calls (their bodies) — for benchmarks sending to a million users
    keep_calls: bool = True
    after_accept: Callable[[Call], Awaitable[None]] | None = None
    _reply_tokens: dict[str, str] = field(default_factory=dict)
    _retry_keys: dict[str, str] = field(default_factory=dict)
    _failures: dict[str, list[_Failure]] = field(default_factory=dict)

    # -- test controls ---------------------------------------------------------------------

    def issue_reply_token(self, user_id: str) -> str:
        """A reply token as LINE would put in a webhook event for ``user_id`` (single use)."""
        token = secrets.token_hex(16)
        self._reply_tokens[token] = user_id
        return token

    def add_profile(self, user_id: str, display_name: str, language: str | None = "th") -> None:
        profile: dict[str, Any] = {"userId": user_id, "displayName": display_name}
        if language:
            profile["language"] = language
        self.profiles[user_id] = profile

    def fail(self, endpoint: str, status: int, message: str = "error", times: int = 1) -> None:
        """Answer the next ``times`` calls of ``endpoint`` (reply, push, ...) with an error."""
        failure = _Failure(status, {"message": message}, times)
        self._failures.setdefault(endpoint, []).append(failure)

    def fail_rate_limit(self, endpoint: str, times: int = 1) -> None:
        self.fail(endpoint, 429, RATE_LIMIT_MESSAGE, times)

    def fail_monthly_limit(self, endpoint: str, times: int = 1) -> None:
        self.fail(endpoint, 429, MONTHLY_LIMIT_MESSAGE, times)

    def fail_server_error(self, endpoint: str, times: int = 1) -> None:
        self.fail(endpoint, 500, "Internal server error", times)

    # -- what was sent ---------------------------------------------------------------------

    def calls_to(self, endpoint: str) -> list[Call]:
        return [call for call in self.calls if call.endpoint == endpoint]

    def delivered(self) -> list[Call]:
        """Accepted reply, push and multicast calls, in order."""
        return [
            c
            for c in self.calls
            if c.endpoint in {"reply", "push", "multicast"} and c.status == 200
        ]

    def messages_to(self, user_id: str) -> list[dict[str, Any]]:
        """Every message delivered to ``user_id`` (by reply or push), in order."""
        out: list[dict[str, Any]] = []
        for call in self.delivered():
            body = call.json
            if call.endpoint == "reply":
                to = [call.recipient]
            elif call.endpoint == "push":
                to = [body.get("to")]
            else:
                to = list(body.get("to", []))
            if user_id in to:
                out.extend(call.messages)
        return out

    # -- server ----------------------------------------------------------------------------

    @property
    def app(self) -> web.Application:
        app = web.Application()
        post, get = app.router.add_post, app.router.add_get
        post("/v2/bot/message/reply", self._reply)
        post("/v2/bot/message/push", self._push)
        post("/v2/bot/message/multicast", self._multicast)
        get("/v2/bot/profile/{user_id}", self._profile)
        get("/v2/bot/message/quota", self._quota)
        get("/v2/bot/message/quota/consumption", self._consumption)
        post("/v2/bot/richmenu", self._create_rich_menu)
        get("/v2/bot/richmenu/list", self._list_rich_menus)
        app.router.add_delete("/v2/bot/richmenu/{menu_id}", self._delete_rich_menu)
        post("/v2/bot/richmenu/{menu_id}/content", self._rich_menu_content)
        post("/v2/bot/user/all/richmenu/{menu_id}", self._default_rich_menu)
        post("/v2/bot/user/{user_id}/richmenu/{menu_id}", self._user_rich_menu)
        return app

    @asynccontextmanager
    async def running(self) -> AsyncIterator[str]:
        """Serve on a free port of 127.0.0.1; yields the base URL (no trailing slash)."""
        runner = web.AppRunner(self.app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://127.0.0.1:{port}"
        try:
            yield self.base_url
        finally:
            await runner.cleanup()

    async def _gate(self, request: web.Request, endpoint: str) -> tuple[Call, web.Response | None]:
        """Record the call, check the token, apply injected failures."""
        body = await request.read()
        try:
            parsed = json.loads(body) if body and "json" in request.content_type else None
        except ValueError:
            parsed = None
        call = Call(endpoint, request.method, request.path, dict(request.headers), body, parsed)
        if self.keep_calls:
            self.calls.append(call)
        if request.headers.get("Authorization") != f"Bearer {self.access_token}":
            message = "Authentication failed. Confirm that the access token is valid."
            return call, self._error(call, 401, message)
        queue = self._failures.get(endpoint)
        if queue:
            failure = queue[0]
            failure.times -= 1
            if failure.times <= 0:
                queue.pop(0)
            return call, self._answer(call, failure.status, failure.body)
        if body and "json" in request.content_type and parsed is None:
            return call, self._error(call, 400, "The request body has 1 error(s)")
        record = self.accepted.setdefault(endpoint, RateRecord())
        if endpoint in self.rates and self.rates[endpoint].take():
            record.refused += 1
            return call, self._error(call, 429, RATE_LIMIT_MESSAGE)
        return call, None

    async def _accepted(self, call: Call, key: str | None, body: Any) -> web.Response:
        if key is not None:
            self._retry_keys[key] = str(uuid.uuid4())
        call.status = 200  # accepted: delivered even if the answer never reaches the bot
        self.accepted.setdefault(call.endpoint, RateRecord()).accepted()
        if call.endpoint == "multicast":
            self.recipients += len(call.json["to"])
        if self.after_accept is not None:
            await self.after_accept(call)
        return self._answer(call, 200, body)

    @staticmethod
    def _answer(call: Call, status: int, body: Any, **headers: str) -> web.Response:
        call.status = status
        return web.json_response(body, status=status, headers=headers)

    def _error(
        self, call: Call, status: int, message: str, details: list[Any] | None = None
    ) -> web.Response:
        body: dict[str, Any] = {"message": message}
        if details:
            body["details"] = details
        return self._answer(call, status, body)

    # -- messages --------------------------------------------------------------------------

    _invalid_messages = staticmethod(invalid_messages)
    _sent = staticmethod(sent_messages)

    def _charge(self, call: Call, recipients: int) -> web.Response | None:
        if self.quota_limit is not None and self.quota_used + recipients > self.quota_limit:
            return self._error(call, 429, MONTHLY_LIMIT_MESSAGE)
        self.quota_used += recipients
        return None

    def _retry_key(
        self, call: Call, request: web.Request
    ) -> tuple[str | None, web.Response | None]:
        key = request.headers.get("X-Line-Retry-Key")
        if key is None:
            return None, None
        try:
            uuid.UUID(key)
        except ValueError:
            return None, self._error(call, 400, "The retry key is not a valid UUID")
        if key in self._retry_keys:
            accepted = self._retry_keys[key]
            return None, self._answer(
                call,
                409,
                {"message": "The retry key is already accepted"},
                **{"x-line-accepted-request-id": accepted},
            )
        return key, None

    async def _reply(self, request: web.Request) -> web.Response:
        call, refused = await self._gate(request, "reply")
        if refused is not None:
            return refused
        body = call.json if isinstance(call.json, dict) else {}
        user_id = self._reply_tokens.pop(body.get("replyToken", ""), None)
        if user_id is None:
            return self._error(call, 400, INVALID_REPLY_TOKEN)
        call.recipient = user_id
        if problems := self._invalid_messages(body.get("messages")):
            return self._error(call, 400, "The request body has errors", problems)
        self.accepted.setdefault("reply", RateRecord()).accepted()
        return self._answer(call, 200, self._sent(len(body["messages"])))

    async def _push(self, request: web.Request) -> web.Response:
        call, refused = await self._gate(request, "push")
        if refused is not None:
            return refused
        key, refused = self._retry_key(call, request)
        if refused is not None:
            return refused
        body = call.json if isinstance(call.json, dict) else {}
        if not isinstance(body.get("to"), str) or not body["to"]:
            return self._error(call, 400, "The request body has errors", [{"property": "to"}])
        if problems := self._invalid_messages(body.get("messages")):
            return self._error(call, 400, "The request body has errors", problems)
        if (over := self._charge(call, 1)) is not None:
            return over
        return await self._accepted(call, key, self._sent(len(body["messages"])))

    async def _multicast(self, request: web.Request) -> web.Response:
        call, refused = await self._gate(request, "multicast")
        if refused is not None:
            return refused
        key, refused = self._retry_key(call, request)
        if refused is not None:
            return refused
        body = call.json if isinstance(call.json, dict) else {}
        to = body.get("to")
        if not isinstance(to, list) or not 1 <= len(to) <= 500:
            return self._error(call, 400, "Size must be between 1 and 500", [{"property": "to"}])
        if problems := self._invalid_messages(body.get("messages")):
            return self._error(call, 400, "The request body has errors", problems)
        if (over := self._charge(call, len(to))) is not None:
            return over
        return await self._accepted(call, key, {})

    # -- profile and quota -----------------------------------------------------------------

    async def _profile(self, request: web.Request) -> web.Response:
        call, refused = await self._gate(request, "profile")
        if refused is not None:
            return refused
        profile = self.profiles.get(request.match_info["user_id"])
        if profile is None:
            return self._error(call, 404, "Not found")
        return self._answer(call, 200, profile)

    async def _quota(self, request: web.Request) -> web.Response:
        call, refused = await self._gate(request, "quota")
        if refused is not None:
            return refused
        if self.quota_limit is None:
            return self._answer(call, 200, {"type": "none"})
        return self._answer(call, 200, {"type": "limited", "value": self.quota_limit})

    async def _consumption(self, request: web.Request) -> web.Response:
        call, refused = await self._gate(request, "quota_consumption")
        if refused is not None:
            return refused
        return self._answer(call, 200, {"totalUsage": self.quota_used})
