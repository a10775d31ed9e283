"""The raw-driver floor of the mix benchmark: :mod:`bench.mix_work`'s statements and the reply.

``python -m bench.peer_servers mix-floor PORT JSON`` (dispatched from there) serves Telegram and
LINE webhooks until killed. Per update: the secret (Telegram) or the body's signature (LINE)
checked, the body parsed, the update's transaction run in one trip (SQLite: the stdlib driver in
one worker thread, ``BEGIN IMMEDIATE`` … ``COMMIT`` in one call; PostgreSQL: asyncpg, one pooled
connection, one transaction), then the reply sent with a bare aiohttp client before the webhook
is answered — a button press answered (``answerCallbackQuery``) first on Telegram, a member card
as a photo of its QR code (``sendPhoto``, the PNG made with segno as ours does), LINE's as a
reply with the token. Messages to others (a receipt to the member, a new inbox message to the
owner) are sent after the commit and their outbox row marked sent in one more trip.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import io
import json
import re
import sqlite3
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Final

import segno
from aiohttp import ClientSession, FormData, web
from sqlalchemy.engine import make_url

from bench.ingest_servers import SECRET
from bench.mix_work import SENT, Answer, Event, Rows, Work, handle
from simulator.fakes.line_api import ACCESS_TOKEN, CHANNEL_SECRET
from simulator.fakes.telegram_api import TOKEN

Run = Callable[[Work], Awaitable[Answer]]
Sent = Callable[[int], Awaitable[None]]
_PLACEHOLDER: Final = re.compile(r"\?")


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value)
    return value


def sqlite_runner(path: str) -> tuple[Run, Sent]:
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    connection.execute("PRAGMA synchronous=NORMAL")  # as our engine's default
    connection.execute("PRAGMA busy_timeout=30000")
    worker = ThreadPoolExecutor(1)

    def transaction(work: Work) -> Answer:
        connection.execute("BEGIN IMMEDIATE")
        try:
            rows: Rows | None = None
            while True:
                try:
                    sql, params = next(work) if rows is None else work.send(rows)
                except StopIteration as done:
                    connection.execute("COMMIT")
                    return done.value  # type: ignore[no-any-return]
                values = tuple(_sqlite_value(value) for value in params)
                rows = connection.execute(sql, values).fetchall()
        except BaseException:
            connection.execute("ROLLBACK")
            raise

    async def run(work: Work) -> Answer:
        return await asyncio.get_running_loop().run_in_executor(worker, transaction, work)

    async def sent(outbox_id: int) -> None:
        await asyncio.get_running_loop().run_in_executor(
            worker, connection.execute, SENT, (outbox_id,)
        )

    return run, sent


def _numbered(sql: str) -> str:
    counter = iter(range(1, 100))
    return _PLACEHOLDER.sub(lambda _: f"${next(counter)}", sql)


async def postgres_runner(url: str) -> tuple[Run, Sent]:
    import asyncpg  # type: ignore[import-untyped]

    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    pool = await asyncpg.create_pool(dsn, min_size=8, max_size=8)
    numbered: dict[str, str] = {}

    async def run(work: Work) -> Answer:
        async with pool.acquire() as connection, connection.transaction():
            rows: Rows | None = None
            while True:
                try:
                    sql, params = next(work) if rows is None else work.send(rows)
                except StopIteration as done:
                    return done.value  # type: ignore[no-any-return]
                if sql not in numbered:
                    numbered[sql] = _numbered(sql)
                rows = [tuple(row) for row in await connection.fetch(numbered[sql], *params)]

    async def sent(outbox_id: int) -> None:
        await pool.execute(_numbered(SENT), outbox_id)

    return run, sent


def qr_png(payload: str) -> bytes:
    buffer = io.BytesIO()
    segno.make(payload, error="m").save(buffer, kind="png", scale=8, border=2)
    return buffer.getvalue()


class Replier:
    """Sends replies and pushes to the fake platform APIs with one bare aiohttp client."""

    def __init__(self, spec: dict[str, Any], sent: Sent) -> None:
        self.client = ClientSession()
        self.telegram = f"{spec['telegram_api']}/bot{TOKEN}"
        self.line = spec["line_api"]
        self.auth = {"Authorization": f"Bearer {ACCESS_TOKEN}"}
        self.sent = sent

    async def _post(self, url: str, **kwargs: Any) -> None:
        async with self.client.post(url, **kwargs) as response:
            await response.read()

    async def telegram_reply(self, chat: int, answer: Answer) -> None:
        markup = {"inline_keyboard": [[{"text": t, "callback_data": d}] for t, d in answer.buttons]}
        extra = {"reply_markup": markup} if answer.buttons else {}
        if answer.card is not None:
            form = FormData({"chat_id": str(chat), "caption": answer.text})
            form.add_field("photo", qr_png(answer.card), filename="card.png")
            await self._post(f"{self.telegram}/sendPhoto", data=form)
        elif answer.text:
            body = {"chat_id": chat, "text": answer.text, **extra}
            await self._post(f"{self.telegram}/sendMessage", json=body)

    async def line_reply(self, token: str, answer: Answer) -> None:
        message: dict[str, Any] = {"type": "text", "text": answer.text}
        if answer.buttons:
            items = [
                {"type": "action", "action": {"type": "postback", "label": t, "data": d}}
                for t, d in answer.buttons
            ]
            message["quickReply"] = {"items": items}
        messages = [message]
        if answer.card is not None:
            qr_png(answer.card)  # ours makes the QR whether or not LINE can show it
            bubble = {
                "type": "bubble",
                "body": {
                    "type": "box",
                    "layout": "vertical",
                    "contents": [{"type": "text", "text": answer.card}],
                },
            }
            messages.append({"type": "flex", "altText": answer.text[:400], "contents": bubble})
        body = {"replyToken": token, "messages": messages}
        await self._post(f"{self.line}/v2/bot/message/reply", json=body, headers=self.auth)

    async def push(self, answer: Answer) -> None:
        for outbox_id, channel, to, text in answer.pushes:
            if channel == "telegram":
                body: dict[str, Any] = {"chat_id": int(to), "text": text}
                await self._post(f"{self.telegram}/sendMessage", json=body)
            else:
                body = {"to": to, "messages": [{"type": "text", "text": text}]}
                await self._post(f"{self.line}/v2/bot/message/push", json=body, headers=self.auth)
            await self.sent(outbox_id)


def _telegram_event(update: dict[str, Any]) -> tuple[Event, int, str | None]:
    now = datetime.now(UTC)
    key = f"telegram:{update['update_id']}"
    if "callback_query" in update:
        query = update["callback_query"]
        user, data = str(query["from"]["id"]), query["data"]
        return Event(key, "telegram", user, now, "button", data), int(user), query["id"]
    message = update["message"]
    user = str(message["from"]["id"])
    return Event(key, "telegram", user, now, "text", message["text"]), message["chat"]["id"], None


def routes(run: Run, replier: Replier) -> web.Application:
    async def telegram(request: web.Request) -> web.Response:
        if request.headers.get("X-Telegram-Bot-Api-Secret-Token") != SECRET:
            return web.Response(status=401)
        event, chat, query = _telegram_event(json.loads(await request.read()))
        answer = await run(handle(event))
        if query is not None:
            await replier._post(
                f"{replier.telegram}/answerCallbackQuery", json={"callback_query_id": query}
            )
        await replier.telegram_reply(chat, answer)
        await replier.push(answer)
        return web.Response(text="ok")

    async def line(request: web.Request) -> web.Response:
        body = await request.read()
        digest = hmac.new(CHANNEL_SECRET.encode(), body, hashlib.sha256).digest()
        signature = request.headers.get("X-Line-Signature", "")
        if not hmac.compare_digest(base64.b64encode(digest).decode(), signature):
            return web.Response(status=401)
        for item in json.loads(body)["events"]:
            user, now = item["source"]["userId"], datetime.now(UTC)
            kind = "button" if item["type"] == "postback" else "text"
            payload = item["postback"]["data"] if kind == "button" else item["message"]["text"]
            event = Event(f"line:{item['webhookEventId']}", "line", user, now, kind, payload)
            answer = await run(handle(event))
            await replier.line_reply(item["replyToken"], answer)
            await replier.push(answer)
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/webhook/telegram", telegram)
    app.router.add_post("/webhook/line", line)
    return app


async def mix_floor(port: int, spec: dict[str, Any]) -> None:
    from bench.ingest_servers import _serve_app

    parsed = make_url(spec["database_url"])
    if parsed.get_backend_name() == "sqlite":
        run, sent = sqlite_runner(str(parsed.database))
    else:
        run, sent = await postgres_runner(spec["database_url"])
    await _serve_app(routes(run, Replier(spec, sent)), port)
