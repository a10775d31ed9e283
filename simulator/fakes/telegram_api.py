"""A fake Telegram Bot API on 127.0.0.1 that answers as the real one does and records calls.

Requests come as the real API takes them: a JSON body, an ``application/x-www-form-urlencoded``
form (nested objects as JSON strings, as aiogram posts them), or a multipart form whose file is
either the part named after its field or, as aiogram sends it, a part named KEY where the field
says ``attach://KEY``. Errors have the HTTP status of their ``error_code``. The fake also checks
what the real API would refuse (unbalanced or unescaped HTML, over-long text, 64-byte callback
data), so a rendering bug fails a test instead of failing in a shop.

Failures are injected per chat (and optionally per method) through :meth:`fail`. With
``rate`` set, sends beyond ``rate`` in any second overall, or more than one per chat within
``chat_window`` seconds (1 s less a little jitter), are answered 429 with ``retry_after``, as the
real API does; accepted sends are counted per second in ``rates``. ``before_send`` runs before
a send is looked at (a test can hold requests there: held requests were never processed);
``after_send`` runs once a send was delivered, before it is answered (a test holding requests
there has them delivered but never answered, as when the sender dies waiting).
"""

from __future__ import annotations

import asyncio
import html
import itertools
import json
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Final

from aiohttp import web
from aiohttp.test_utils import TestServer

from simulator.fakes.rate_window import RateRecord, WindowLimit, retry_after

TOKEN: Final = "123456789:TEST-fake-token_abcdefghijklmnopqrstu"
JSON_FIELDS: Final = frozenset(
    {"reply_markup", "allowed_updates", "commands", "scope", "link_preview_options", "entities"}
)
SEND_METHODS: Final = frozenset({"sendMessage", "sendPhoto", "sendDocument"})
_TAG = re.compile(
    r"</?(b|strong|i|em|u|ins|s|strike|del|code|pre|a|tg-spoiler|blockquote)"
    r"(\s[^>]*)?>"
)
_ENTITY = re.compile(r"&(lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);")


@dataclass
class Call:
    """One request the bot made, decoded; ``files`` maps a field (``photo``) to its bytes."""

    method: str
    params: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)
    filenames: dict[str, str] = field(default_factory=dict)
    status: int = 200
    #: when the request arrived (monotonic seconds)
    at: float = field(default_factory=time.monotonic)
    #: how the body came: ``application/json``, ``multipart/form-data``, or a plain form
    content_type: str = ""

    @property
    def chat_id(self) -> int | None:
        value = self.params.get("chat_id")
        return int(value) if value is not None else None

    @property
    def text(self) -> str:
        """The message text or caption as sent (HTML, escaped)."""
        return str(self.params.get("text") or self.params.get("caption") or "")

    @property
    def markup(self) -> dict[str, Any]:
        return dict(self.params.get("reply_markup") or {})

    def callback_data(self) -> dict[str, str]:
        """Inline buttons of this message: label → callback_data."""
        rows = self.markup.get("inline_keyboard", [])
        return {b["text"]: b["callback_data"] for row in rows for b in row if "callback_data" in b}


@dataclass
class Failure:
    status: int
    description: str
    chat_id: int | None = None
    method: str | None = None
    retry_after: int | None = None
    #: how many more calls fail; None = until cleared
    times: int | None = None


def visible_text(markup: str) -> str:
    """What the user reads after Telegram parses the HTML (raises ValueError if it cannot)."""
    without_tags = _TAG.sub("", markup)
    if "<" in without_tags or ">" in without_tags:
        raise ValueError("can't parse entities: unsupported start tag")
    if "&" in _ENTITY.sub("", without_tags):
        raise ValueError("can't parse entities: character '&' is reserved")
    return html.unescape(without_tags)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class FakeTelegramAPI:
    def __init__(
        self,
        token: str = TOKEN,
        username: str = "chatcrm_test_bot",
        *,
        rate: int | None = None,
        chat_window: float = 0.95,
    ) -> None:
        self.token = token
        self.overall = WindowLimit(rate) if rate else None
        self.chat_window = chat_window
        self._chats: dict[int, WindowLimit] = {}
        self.rates = RateRecord()
        self.before_send: Callable[[Call], Awaitable[None]] | None = None
        self.after_send: Callable[[Call], Awaitable[None]] | None = None
        self.username = username
        self.calls: list[Call] = []
        self.failures: list[Failure] = []
        self.updates: list[dict[str, Any]] = []
        self._new_update = asyncio.Event()
        self._message_ids = itertools.count(1)
        self.webhook: dict[str, Any] = {}
        #: (scope type, language_code or "") → commands as sent
        self.commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        #: chat id → commands of that chat's own scope (``BotCommandScopeChat``)
        self.chat_commands: dict[int, list[dict[str, str]]] = {}

    # -- what tests use --------------------------------------------------------------------

    def fail(self, status: int, description: str, **where: Any) -> Failure:
        failure = Failure(status, description, **where)
        self.failures.append(failure)
        return failure

    def block(self, chat_id: int) -> Failure:
        return self.fail(403, "Forbidden: bot was blocked by the user", chat_id=chat_id)

    def queue_update(self, update: dict[str, Any]) -> None:
        self.updates.append(update)
        self._new_update.set()

    def sent(self, chat_id: int | None = None) -> list[Call]:
        """Messages that were delivered (status 200), optionally to one chat."""
        return [
            c
            for c in self.calls
            if c.method in SEND_METHODS
            and c.status == 200
            and (chat_id is None or c.chat_id == chat_id)
        ]

    def of(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def app(self) -> web.Application:
        app = web.Application(client_max_size=60 * 1024**2)
        app.router.add_post("/bot{token}/{method}", self._handle)
        return app

    # -- the API ---------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        call = await _decode(request)
        if call.method in SEND_METHODS and self.before_send is not None:
            await self.before_send(call)
        self.calls.append(call)
        refusal = self._refusal(call) or _invalid(call) or self._over_rate(call)
        if refusal is not None:
            call.status = refusal.status
            return refusal
        handler = getattr(self, f"_m_{call.method}", None)
        if handler is None:
            call.status = 404
            return _error(404, "Not Found: method not found")
        answer = await handler(call)
        if call.method in SEND_METHODS:
            self.rates.accepted()
            if self.after_send is not None:
                await self.after_send(call)
        return _ok(answer)

    def _over_rate(self, call: Call) -> web.Response | None:
        if self.overall is None or call.method not in SEND_METHODS:
            return None
        chat = self._chats.setdefault(call.chat_id or 0, WindowLimit(1, self.chat_window))
        wait = max(chat.wait(), self.overall.wait())
        if not wait:
            chat.record()
            self.overall.record()
            return None
        self.rates.refused += 1
        seconds = retry_after(wait)
        return _error(429, f"Too Many Requests: retry after {seconds}", {"retry_after": seconds})

    def _refusal(self, call: Call) -> web.Response | None:
        for failure in self.failures:
            if failure.times == 0:
                continue
            if failure.chat_id is not None and failure.chat_id != call.chat_id:
                continue
            if failure.method is not None and failure.method != call.method:
                continue
            if failure.times is not None:
                failure.times -= 1
            extra = {"retry_after": failure.retry_after} if failure.retry_after else None
            return _error(failure.status, failure.description, extra)
        return None

    def _message(self, call: Call, **content: Any) -> dict[str, Any]:
        chat_id = call.chat_id or 0
        return {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private"},
            **content,
        }

    async def _m_getMe(self, call: Call) -> Any:
        bot_id = int(self.token.split(":", 1)[0])
        return {"id": bot_id, "is_bot": True, "first_name": "Shop", "username": self.username}

    async def _m_sendMessage(self, call: Call) -> Any:
        return self._message(call, text=visible_text(call.text))

    async def _m_sendPhoto(self, call: Call) -> Any:
        size = {"file_id": "p1", "file_unique_id": "u1", "width": 512, "height": 512}
        return self._message(call, photo=[size])

    async def _m_sendDocument(self, call: Call) -> Any:
        return self._message(call, document={"file_id": "d1", "file_unique_id": "u2"})

    async def _m_answerCallbackQuery(self, call: Call) -> Any:
        return True

    async def _m_setWebhook(self, call: Call) -> Any:
        self.webhook = dict(call.params)
        return True

    async def _m_getWebhookInfo(self, call: Call) -> Any:
        url = self.webhook.get("url", "")
        return {"url": url, "has_custom_certificate": False, "pending_update_count": 0}

    async def _m_deleteWebhook(self, call: Call) -> Any:
        self.webhook = {}
        return True

    async def _m_setMyCommands(self, call: Call) -> Any:
        scope = call.params.get("scope") or {"type": "default"}
        if scope["type"] == "chat":
            self.chat_commands[int(scope["chat_id"])] = list(call.params["commands"])
            return True
        key = (scope["type"], call.params.get("language_code", ""))
        self.commands[key] = list(call.params["commands"])
        return True

    async def _m_deleteMyCommands(self, call: Call) -> Any:
        scope = call.params.get("scope") or {"type": "default"}
        if scope["type"] == "chat":
            self.chat_commands.pop(int(scope["chat_id"]), None)
        else:
            self.commands.pop((scope["type"], call.params.get("language_code", "")), None)
        return True

    async def _m_getUpdates(self, call: Call) -> Any:
        offset = int(call.params.get("offset", 0))
        self.updates = [u for u in self.updates if u["update_id"] >= offset]
        if not self.updates:
            self._new_update.clear()
            wait = min(float(call.params.get("timeout", 0)), 1.0)
            try:
                await asyncio.wait_for(self._new_update.wait(), timeout=wait)
            except TimeoutError:
                return []
        return list(self.updates)


async def _decode(request: web.Request) -> Call:
    method, content_type = request.match_info["method"], request.content_type
    if content_type == "application/json":
        return Call(method, dict(await request.json()), content_type=content_type)
    form = await request.post()
    params: dict[str, Any] = {}
    parts: dict[str, web.FileField] = {}
    for key, value in form.items():
        if isinstance(value, web.FileField):
            parts[key] = value
        elif key in JSON_FIELDS:
            params[key] = json.loads(value)
        else:
            params[key] = value
    call = Call(method, params, content_type=content_type)
    for key, value in params.items():
        if isinstance(value, str) and value.startswith("attach://"):
            part = parts.pop(value.removeprefix("attach://"))
            call.files[key] = part.file.read()
            call.filenames[key] = part.filename
    for key, part in parts.items():  # a file in the part named after its field
        call.files[key] = part.file.read()
        call.filenames[key] = part.filename
    return call


def _invalid(call: Call) -> web.Response | None:
    """The request checks of the real API that rendering bugs would trip."""
    limit = {"sendMessage": 4096}.get(call.method, 1024)
    if call.method in SEND_METHODS and call.text:
        # the Bot API reference: text 1-4096 and captions 0-1024 characters "after entities
        # parsing", with or without a parse_mode
        try:
            html_mode = call.params.get("parse_mode") == "HTML"
            shown = visible_text(call.text) if html_mode else call.text
        except ValueError as error:
            return _error(400, f"Bad Request: {error}")
        if utf16_len(shown.strip()) > limit:
            return _error(400, "Bad Request: message is too long")
    if call.method == "setMyCommands" and not _valid_commands(call.params.get("commands")):
        return _error(400, "Bad Request: BOT_COMMAND_INVALID")
    if call.method == "sendMessage" and not call.text.strip():
        return _error(400, "Bad Request: message text is empty")
    for row in call.markup.get("inline_keyboard", []):
        for button in row:
            data = button.get("callback_data")
            if data is not None and not 1 <= len(data.encode()) <= 64:
                return _error(400, "Bad Request: BUTTON_DATA_INVALID")
    return None


def _valid_commands(commands: Any) -> bool:
    """``setMyCommands`` as the reference has it: at most 100 commands, each 1-32 characters of
    ``[a-z0-9_]`` with a description of 1-256 characters."""
    if not isinstance(commands, list) or len(commands) > 100:
        return False
    return all(
        re.fullmatch(r"[a-z0-9_]{1,32}", str(c.get("command", "")))
        and 1 <= len(str(c.get("description", ""))) <= 256
        for c in commands
    )


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def _error(status: int, description: str, parameters: Any = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return web.json_response(body, status=status)


@asynccontextmanager
async def serving(
    fake: FakeTelegramAPI | None = None,
) -> AsyncIterator[tuple[FakeTelegramAPI, str]]:
    """Run ``fake`` on a free port of 127.0.0.1; yields (fake, base URL for TELEGRAM_API_BASE)."""
    fake = fake or FakeTelegramAPI()
    server = TestServer(fake.app(), host="127.0.0.1")
    await server.start_server()
    try:
        yield fake, str(server.make_url("")).rstrip("/")
    finally:
        await server.close()
