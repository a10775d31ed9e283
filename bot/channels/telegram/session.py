"""The Bot API session: aiogram's, plus a plain path for the calls made per message.

Messages (replies, outbox sends) and callback answers go through :meth:`BotSession.post`: a
JSON body (a multipart form when a file goes with it) through aiogram's own aiohttp session,
and the answer read as the JSON it is. The product needs only ``ok``, ``description`` and
``parameters.retry_after`` of an answer, so no pydantic model is built for the request or the
answer; the errors map onto :mod:`bot.core.errors` exactly as aiogram's exceptions did through
:func:`bot.channels.telegram.outbound.call` (kept for the setup calls, which still go through
aiogram's methods and :meth:`BotSession.make_request`).

Every message, on either path, is timed for :class:`~jobs.ratelimit.ArrivalWindow`.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from functools import lru_cache
from typing import Any, ClassVar, Final, TypeVar

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import Response, TelegramMethod
from aiohttp import ClientError, ClientTimeout
from aiohttp.helpers import content_disposition_header

from bot import metrics
from bot.core.capabilities import TELEGRAM_CAPABILITIES
from bot.core.errors import (
    CredentialsRejected,
    PermanentChannelError,
    RateLimited,
    RecipientUnreachable,
    TransientChannelError,
)
from jobs.ratelimit import ArrivalWindow

T = TypeVar("T")
#: the setting that holds the bot's token (named when Telegram refuses it)
TOKEN_SETTING: Final = "TELEGRAM_BOT_TOKEN"  # noqa: S105 (a variable's name, not its value)
#: the Bot API methods that put a message in a chat: what the platform's rate counts
MESSAGE_METHODS: Final = frozenset({"sendMessage", "sendPhoto", "sendDocument"})
#: the shortest lateness taken for a stall on the way (see :func:`make_bot`)
MIN_TOLERANCE: Final = 0.01
JSON_BODY: Final[Mapping[str, str]] = {"Content-Type": "application/json"}
CRLF: Final = b"\r\n"
#: a file sent with a message: field name (``photo``) → (file name, bytes)
Files = Mapping[str, tuple[str, bytes]]
#: seconds to wait after the 1st, 2nd, … 429 in a row that names no ``retry_after``, the last
#: repeated (see :class:`BareLimits`)
BARE_429_WAITS: Final = (2, 5, 15, 30, 60)


class BareLimits:
    """The waits taken for 429s that name no ``retry_after``.

    A 429 is "too many requests, try later" whatever its body says: a proxy in front of the Bot
    API, or the API itself under load, may leave ``parameters`` out. Taking it for a refusal
    would record a reply as failed that a moment later would have gone out (and the README
    promises that direct replies are never dropped), so it is a rate limit like any other; as
    nothing says how long to wait, the wait grows while such 429s come one after another, up
    to a minute, and starts over once a message is accepted."""

    def __init__(self) -> None:
        self.in_a_row = 0

    def wait(self) -> int:
        """Seconds to wait after one more bare 429."""
        self.in_a_row += 1
        return BARE_429_WAITS[min(self.in_a_row, len(BARE_429_WAITS)) - 1]

    def accepted(self) -> None:
        self.in_a_row = 0


class BotSession(AiohttpSession):
    """aiogram's session, with the answer types of the methods it called kept alive, the
    messages it sends timed for the limiter's arrival window, and :meth:`post`.

    aiogram reads every Bot API answer into ``Response[<the method's return type>]``; pydantic
    keeps such parametrised classes only weakly, so once the garbage collector has run the next
    call builds the class (its validators, its schema) again, a few tens of microseconds per
    message sent. Holding each on first use makes every later call find it.

    The send budgets pace messages as they leave; :class:`~jobs.ratelimit.ArrivalWindow`
    learns from the answers which ones a stall on the way may have bunched as they arrived.
    """

    _answer_types: ClassVar[dict[Any, Any]] = {}

    def __init__(self, arrivals: ArrivalWindow, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.arrivals = arrivals
        self.request_timeout = ClientTimeout(total=self.timeout)
        self.bare_limits = BareLimits()

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[T],
        timeout: int | None = None,  # noqa: ASYNC109 - aiogram's signature, passed on
    ) -> T:
        if method.__api_method__ not in MESSAGE_METHODS:
            return await super().make_request(bot, method, timeout)
        async with self.arrivals.turn():
            return await super().make_request(bot, method, timeout)

    def check_response(
        self, bot: Bot, method: TelegramMethod[Any], status_code: int, content: str
    ) -> Response[Any]:
        returning = method.__returning__
        if returning not in self._answer_types:
            self._answer_types[returning] = Response[returning]  # type: ignore[valid-type]
        if status_code == 429 and (bare := _bare_429(content)) is not None:
            # aiogram takes it for an unknown error: a rate limit, as on the plain path
            raise TelegramRetryAfter(method, bare, self.bare_limits.wait())
        answer = super().check_response(bot, method, status_code, content)
        self.bare_limits.accepted()
        return answer

    async def post(
        self, token: str, method: str, fields: dict[str, Any], files: Files | None = None
    ) -> Any:
        """Call ``method`` with ``fields`` (JSON values) and ``files``; its ``result``, or a
        :class:`~bot.core.errors.ChannelError` subclass as :func:`answer_of` maps it."""
        if method not in MESSAGE_METHODS:
            return await self._post(token, method, fields, files)
        async with self.arrivals.turn():  # a failed request raises inside: it is not timed
            return await self._post(token, method, fields, files)

    async def _post(
        self, token: str, method: str, fields: dict[str, Any], files: Files | None
    ) -> Any:
        session = await self.create_session()
        url = self.api.api_url(token=token, method=method)
        body, headers = json.dumps(fields).encode(), JSON_BODY
        if files:
            body, headers = form(fields, files)
        try:
            async with session.post(
                url, data=body, headers=headers, timeout=self.request_timeout
            ) as response:
                status, content = response.status, await response.read()
        except TimeoutError as error:
            raise TransientChannelError("Request timeout error") from error
        except ClientError as error:
            raise TransientChannelError(f"{type(error).__name__}: {error}") from error
        return answer_of(method, fields, status, content, self.bare_limits)


def form(fields: Mapping[str, Any], files: Files) -> tuple[bytes, Mapping[str, str]]:
    """A multipart form and its ``Content-Type``: text fields as they are, other values as
    JSON, files as parts; the parts aiohttp's ``FormData`` (``quote_fields=False``) wrote.

    Built whole, as one body: ``FormData`` writes each part's headers and content to the
    socket separately, a system call apiece for every photo sent."""
    boundary = uuid.uuid4().hex
    delimiter = f"--{boundary}\r\n".encode()
    chunks: list[bytes] = []
    for name, value in fields.items():
        text = value if isinstance(value, str) else json.dumps(value)
        chunks += [delimiter, _part_head("text/plain; charset=utf-8", name), text.encode(), CRLF]
    for name, (filename, content) in files.items():
        chunks += [delimiter, _part_head("application/octet-stream", name, filename), content]
        chunks.append(CRLF)
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), {"Content-Type": f"multipart/form-data; boundary={boundary}"}


@lru_cache(maxsize=256)
def _part_head(content_type: str, name: str, filename: str | None = None) -> bytes:
    """A part's headers; kept, as the fields and the card's file name repeat every time."""
    params = {"name": name} if filename is None else {"name": name, "filename": filename}
    disposition = content_disposition_header("form-data", quote_fields=False, **params)
    return f"Content-Type: {content_type}\r\nContent-Disposition: {disposition}\r\n\r\n".encode()


def answer_of(
    method: str,
    fields: Mapping[str, Any],
    status: int,
    content: bytes,
    bare_limits: BareLimits | None = None,
) -> Any:
    """The ``result`` of a Bot API answer, or the error it means, as aiogram's exceptions were
    mapped: ``retry_after`` → :class:`RateLimited`, 403 → :class:`RecipientUnreachable`, 5xx
    and an answer that is not the API's JSON → :class:`TransientChannelError`, 401 (the bot's
    token) → :class:`CredentialsRejected`, anything else (400, 404, 409, 413) →
    :class:`PermanentChannelError`. A 429 without
    ``retry_after`` is :class:`RateLimited` too, for the wait ``bare_limits`` gives."""
    try:
        answer = json.loads(content)
    except ValueError as error:  # a proxy's HTML error page, a truncated body
        raise TransientChannelError(f"Failed to decode object: {error}") from error
    if not _well_formed(answer):
        raise TransientChannelError(f"Failed to deserialize object: {content[:200]!r}")
    bare_limits = bare_limits or BareLimits()
    if 200 <= status <= 226 and answer["ok"]:
        result = answer.get("result")
        if method in MESSAGE_METHODS and not _is_message(result):
            raise TransientChannelError(f"Failed to deserialize object: {content[:200]!r}")
        bare_limits.accepted()
        return result
    description = answer.get("description") or ""
    parameters = answer.get("parameters") or {}
    retry_after = parameters.get("retry_after") or (bare_limits.wait() if status == 429 else 0)
    if retry_after:
        metrics.count_rate_limited("telegram")
        raise RateLimited(float(retry_after), _flood(method, fields, retry_after, description))
    if migrated := parameters.get("migrate_to_chat_id"):
        raise PermanentChannelError(_migrated(fields, migrated, description))
    if status == 403:  # the API's status for a blocked bot
        raise RecipientUnreachable(description)
    if status == 401:  # the bot's token: revoked in @BotFather, or mistyped
        raise CredentialsRejected(description or "Unauthorized", TOKEN_SETTING)
    if status >= 500:  # the platform's own trouble
        raise TransientChannelError(description)
    raise PermanentChannelError(description)


def _bare_429(content: str) -> str | None:
    """The description of a 429 that is the API's JSON but names no ``retry_after``."""
    try:
        answer = json.loads(content)
    except ValueError:
        return None
    if not _well_formed(answer) or (answer.get("parameters") or {}).get("retry_after"):
        return None
    return str(answer.get("description") or "")


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _well_formed(answer: object) -> bool:
    """The fields read have the API's types (what aiogram's ``Response`` model checked)."""
    if not isinstance(answer, dict) or not isinstance(answer.get("ok"), bool):
        return False
    if not isinstance(answer.get("description", ""), str | None):
        return False
    parameters = answer.get("parameters")
    if parameters is None:
        return True
    return isinstance(parameters, dict) and all(
        parameters.get(name) is None or _number(parameters[name])
        for name in ("retry_after", "migrate_to_chat_id")
    )


def _is_message(result: object) -> bool:
    return (
        isinstance(result, dict)
        and isinstance(result.get("message_id"), int)
        and isinstance(result.get("chat"), dict)
    )


def _flood(method: str, fields: Mapping[str, Any], retry_after: object, description: str) -> str:
    """The words aiogram's ``TelegramRetryAfter`` gave a 429 (logged with the retry)."""
    words = f"Flood control exceeded on method {method[:1].upper() + method[1:]!r}"
    if chat_id := fields.get("chat_id"):
        words += f" in chat {chat_id}"
    return f"{words}. Retry in {retry_after} seconds.\nOriginal description: {description}"


def _migrated(fields: Mapping[str, Any], to: object, description: str) -> str:
    """The words aiogram's ``TelegramMigrateToChat`` gave (a group only: never a private chat)."""
    words = f"The group has been migrated to a supergroup with id {to}"
    if chat_id := fields.get("chat_id"):
        words += f" from {chat_id}"
    return f"{words}\nOriginal description: {description}"


def arrival_window(per_second: float | None = None) -> ArrivalWindow:
    """The arrival window of a bot paced at ``per_second`` (``TELEGRAM_RATE``; the platform's
    own limit when not given): a message answered later than the quickest recent ones by more
    than one gap of that pace costs this process a slot (see
    :class:`~jobs.ratelimit.ArrivalWindow`); a gap shorter than a scheduler's time slice is not
    taken for a stall."""
    pace = per_second or TELEGRAM_CAPABILITIES.rates.per_sender or 30.0
    return ArrivalWindow(max(1.0 / pace, MIN_TOLERANCE))


def make_bot(token: str, api_base: str, arrivals: ArrivalWindow | None = None) -> Bot:
    """An aiogram Bot on ``api_base`` whose messages are HTML (replies are escaped for it),
    timing its messages in ``arrivals``."""
    session = BotSession(
        arrivals=arrivals or arrival_window(), api=TelegramAPIServer.from_base(api_base)
    )
    return Bot(token, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))


def session_of(bot: Bot) -> BotSession:
    """The :class:`BotSession` of a bot :func:`make_bot` built."""
    session = bot.session
    if not isinstance(session, BotSession):
        raise TypeError("the bot was not built by make_bot")
    return session
