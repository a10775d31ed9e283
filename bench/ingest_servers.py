"""The servers of the webhook-ingest benchmark, each run as its own process.

``python -m bench.ingest_servers KIND PORT [JSON]`` serves until killed:

- ``ours``: ``chatcrm serve`` itself (:func:`bot.server.serve`) with the settings in JSON
  (``env``: the environment variables, ``freeze``: whether start-up objects are frozen);
- ``aiogram``: the baseline for Telegram — aiogram's own ``SimpleRequestHandler`` (secret
  check, parse, dispatch) in front of a no-op message handler;
- ``line-bare``: the baseline for LINE — an aiohttp route that runs line-bot-sdk's
  ``WebhookParser`` (signature check, parse) and answers 200;
- ``fake-telegram`` / ``fake-line``: the fake platform APIs our server replies to, in a process
  of their own so they do not take the CPU of the server under test.

The baselines are frozen after start-up too (``gc.freeze()``), so they are compared at their best.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import sys
from typing import Any

from aiohttp import web

SECRET = "bench-Webhook_secret"  # noqa: S105 - the fake webhook secret of the benchmark


async def _serve_app(app: web.Application, port: int) -> None:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    gc.collect()
    gc.freeze()
    print("READY", flush=True)
    await asyncio.Event().wait()


async def aiogram_baseline(port: int) -> None:
    from aiogram import Bot, Dispatcher
    from aiogram.types import Message
    from aiogram.webhook.aiohttp_server import SimpleRequestHandler

    from simulator.fakes.telegram_api import TOKEN

    dispatcher = Dispatcher()

    @dispatcher.message()
    async def _noop(message: Message) -> None:
        return None

    app = web.Application()
    # answered after the handler ran, as our webhook is (aiogram's default answers first)
    handler = SimpleRequestHandler(
        dispatcher, Bot(TOKEN), handle_in_background=False, secret_token=SECRET
    )
    handler.register(app, path="/webhook/telegram")
    await _serve_app(app, port)


async def line_baseline(port: int) -> None:
    from linebot.v3 import WebhookParser
    from linebot.v3.exceptions import InvalidSignatureError

    from simulator.fakes.line_api import CHANNEL_SECRET

    parser = WebhookParser(CHANNEL_SECRET)

    async def webhook(request: web.Request) -> web.Response:
        body = await request.text()
        try:
            parser.parse(body, request.headers.get("X-Line-Signature", ""))
        except InvalidSignatureError:
            return web.Response(status=401)
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/webhook/line", webhook)
    await _serve_app(app, port)


async def fake_telegram(port: int) -> None:
    from simulator.fakes.telegram_api import FakeTelegramAPI

    runner = web.AppRunner(FakeTelegramAPI().app(), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    print("READY", flush=True)
    await asyncio.Event().wait()


class _BenchReplyTokens(dict[str, str]):
    """Reply tokens of the form ``rt.USERID.N``, issued by the load generator (another process):
    each is accepted once, for the user it names, as LINE's would be."""

    def __init__(self) -> None:
        super().__init__()
        self.used: set[str] = set()

    def pop(self, key: str, default: Any = None) -> Any:
        parts = key.split(".")
        if len(parts) != 3 or parts[0] != "rt" or key in self.used:
            return default
        self.used.add(key)
        return parts[1]


async def fake_line(port: int) -> None:
    from simulator.fakes.line_api import FakeLineApi

    api = FakeLineApi()
    api._reply_tokens = _BenchReplyTokens()
    runner = web.AppRunner(api.app(), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    print("READY", flush=True)
    await asyncio.Event().wait()


async def ours(port: int, spec: dict[str, Any]) -> None:
    import logging

    from bot import logging_context, server
    from bot.config import Settings

    os.environ.update({key: str(value) for key, value in spec["env"].items()})
    os.environ["CHATCRM_PORT"] = str(port)
    server.FREEZE_AFTER_STARTUP = bool(spec.get("freeze", True))
    settings = Settings(_env_file=None)
    logging_context.configure(logging.INFO, settings.log_format)  # as `chatcrm serve` does
    await server.serve(settings)


def main() -> None:
    kind, port = sys.argv[1], int(sys.argv[2])
    spec = json.loads(sys.argv[3]) if len(sys.argv) > 3 else {}
    runs = {
        "aiogram": lambda: aiogram_baseline(port),
        "line-bare": lambda: line_baseline(port),
        "fake-telegram": lambda: fake_telegram(port),
        "fake-line": lambda: fake_line(port),
        "ours": lambda: ours(port, spec),
    }
    asyncio.run(runs[kind]())


if __name__ == "__main__":
    main()
