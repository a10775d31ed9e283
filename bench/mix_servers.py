"""The baselines of the mix benchmark, each run as its own process.

``python -m bench.mix_servers KIND PORT JSON`` serves Telegram and LINE webhooks until killed;
JSON gives ``database_url``, ``telegram_api`` and ``line_api`` (the fakes the replies go to).

- ``floor``: :mod:`bench.mix_floor` (the raw driver, one trip, a bare aiohttp client);
- ``peer``: :mod:`bench.mix_peer` behind aiogram 3 (Telegram) and line-bot-sdk 3 (LINE), the
  reply sent before the webhook is answered, as ``chatcrm serve`` does.

Connections are opened before the server listens.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from bench.ingest_servers import SECRET, _serve_app
from bench.mix_floor import mix_floor, qr_png
from bench.mix_peer import handle
from bench.mix_work import Answer
from simulator.fakes.line_api import ACCESS_TOKEN, CHANNEL_SECRET
from simulator.fakes.telegram_api import TOKEN


class PeerWork:
    """A session per update; an outbox row marked sent in a session of its own."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions
        #: how a message reaches a chat account of each channel (set by the channels' routes)
        self.senders: dict[str, Callable[[str, str], Awaitable[None]]] = {}

    async def push(self, answer: Answer) -> None:
        """Messages to others, after the commit; each outbox row then marked sent."""
        for _, channel, to, text in answer.pushes:
            await self.senders[channel](to, text)
        await self.sent(answer)

    async def run(self, key: str, channel: str, user: str, payload: str) -> Answer:
        async with self.sessions() as session:
            return await handle(session, key, channel, user, payload)

    async def sent(self, answer: Answer) -> None:
        from storage.models import OutboxMessage

        for outbox_id, *_ in answer.pushes:
            async with self.sessions() as session:
                row = await session.get(OutboxMessage, outbox_id)
                assert row is not None
                row.status, row.attempts = "sent", 1
                await session.commit()


def telegram_routes(app: web.Application, spec: dict[str, Any], work: PeerWork) -> None:
    """aiogram's webhook handler on ``/webhook/telegram``."""
    from aiogram import Bot, Dispatcher
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer
    from aiogram.types import (
        BufferedInputFile,
        CallbackQuery,
        InlineKeyboardButton,
        InlineKeyboardMarkup,
        Message,
        Update,
    )
    from aiogram.webhook.aiohttp_server import SimpleRequestHandler

    api = TelegramAPIServer.from_base(spec["telegram_api"])
    bot = Bot(TOKEN, session=AiohttpSession(api=api))
    dispatcher = Dispatcher()

    async def send(to: str, text: str) -> None:
        await bot.send_message(int(to), text)

    work.senders["telegram"] = send

    async def answer_to(message: Message, answer: Answer) -> None:
        keyboard = [[InlineKeyboardButton(text=t, callback_data=d)] for t, d in answer.buttons]
        markup = InlineKeyboardMarkup(inline_keyboard=keyboard) if keyboard else None
        if answer.card is not None:
            photo = BufferedInputFile(qr_png(answer.card), filename="card.png")
            await message.answer_photo(photo, caption=answer.text)
        elif answer.text:
            await message.answer(answer.text, reply_markup=markup)
        await work.push(answer)

    @dispatcher.message()
    async def on_message(message: Message, event_update: Update) -> None:
        assert message.from_user is not None
        assert message.text is not None
        key = f"telegram:{event_update.update_id}"
        answer = await work.run(key, "telegram", str(message.from_user.id), message.text)
        await answer_to(message, answer)

    @dispatcher.callback_query()
    async def on_button(query: CallbackQuery, event_update: Update) -> None:
        assert query.data is not None
        assert isinstance(query.message, Message)
        await query.answer()
        key, user = f"telegram:{event_update.update_id}", str(query.from_user.id)
        answer = await work.run(key, "telegram", user, query.data)
        await answer_to(query.message, answer)

    handler = SimpleRequestHandler(dispatcher, bot, handle_in_background=False, secret_token=SECRET)
    handler.register(app, path="/webhook/telegram")


def line_messages(answer: Answer) -> list[Any]:
    """The answer as line-bot-sdk message objects (a card: its QR made, shown as a bubble)."""
    from linebot.v3.messaging import (
        FlexBox,
        FlexBubble,
        FlexMessage,
        FlexText,
        PostbackAction,
        QuickReply,
        QuickReplyItem,
        TextMessage,
    )

    quick = None
    if answer.buttons:
        items = [QuickReplyItem(action=PostbackAction(label=t, data=d)) for t, d in answer.buttons]
        quick = QuickReply(items=items)
    out: list[Any] = [TextMessage(text=answer.text, quickReply=quick)]
    if answer.card is not None:
        qr_png(answer.card)  # ours makes the QR whether or not LINE can show it
        body = FlexBox(layout="vertical", contents=[FlexText(text=answer.card)])
        out.append(FlexMessage(altText=answer.text[:400], contents=FlexBubble(body=body)))
    return out


def line_routes(app: web.Application, spec: dict[str, Any], work: PeerWork) -> None:
    """line-bot-sdk's parser and messaging client on ``/webhook/line``."""
    from linebot.v3 import WebhookParser
    from linebot.v3.exceptions import InvalidSignatureError
    from linebot.v3.messaging import (
        AsyncApiClient,
        AsyncMessagingApi,
        Configuration,
        PushMessageRequest,
        ReplyMessageRequest,
        TextMessage,
    )
    from linebot.v3.webhooks import MessageEvent, PostbackEvent

    parser = WebhookParser(CHANNEL_SECRET)
    config = Configuration(host=spec["line_api"], access_token=ACCESS_TOKEN)
    messaging = AsyncMessagingApi(AsyncApiClient(config))

    async def send(to: str, text: str) -> None:
        await messaging.push_message(PushMessageRequest(to=to, messages=[TextMessage(text=text)]))

    work.senders["line"] = send

    async def webhook(request: web.Request) -> web.Response:
        body = await request.text()
        try:
            events = parser.parse(body, request.headers.get("X-Line-Signature", ""))
        except InvalidSignatureError:
            return web.Response(status=401)
        for event in events:
            if isinstance(event, PostbackEvent):
                payload = event.postback.data
            elif isinstance(event, MessageEvent):
                payload = event.message.text
            else:
                continue
            user = event.source.user_id
            answer = await work.run(f"line:{event.webhook_event_id}", "line", user, payload)
            request_ = ReplyMessageRequest(
                replyToken=event.reply_token, messages=line_messages(answer)
            )
            await messaging.reply_message(request_)
            await work.push(answer)
        return web.Response(text="ok")

    app.router.add_post("/webhook/line", webhook)


async def peer(port: int, spec: dict[str, Any]) -> None:
    engine = create_async_engine(spec["database_url"])
    async with engine.connect():  # the pool's first connection, before the timing
        pass
    work = PeerWork(async_sessionmaker(engine, expire_on_commit=False))
    app = web.Application()
    telegram_routes(app, spec, work)
    line_routes(app, spec, work)
    await _serve_app(app, port)


def main() -> None:
    kind, port, spec = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
    runs = {"peer": peer, "floor": mix_floor}
    asyncio.run(runs[kind](port, spec))


if __name__ == "__main__":
    main()
