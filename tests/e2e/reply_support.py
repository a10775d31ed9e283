"""The Telegram webhook and the outbox dispatcher of one process, on one send budget, against
the rate-limiting fake Bot API: what ``chatcrm serve`` runs, on the real clock."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from bot.bootstrap import App
from bot.channels.telegram import TelegramChannel
from bot.config import Settings
from bot.core.clock import FrozenClock, SystemClock
from bot.core.messages import Channel
from bot.web import build_web_app
from jobs.dispatcher import OutboxDispatcher
from jobs.ratelimit import PlatformLimits, SendLimiter, operator_budgets
from jobs.shared_pace import SharedPace
from simulator.fakes.telegram_api import FakeTelegramAPI
from simulator.fakes.telegram_updates import callback_update, text_update
from tests.e2e.telegram_world import SECRET

_updates = itertools.count(90_000)


@dataclass
class Process:
    """One serving process: its webhook client, its channel and (when it leads) a dispatcher."""

    app: App
    channel: TelegramChannel
    client: TestClient[Any, Any]
    limiter: SendLimiter

    async def say(self, user: int, text: str) -> int:
        return await self._post(text_update(next(_updates), user, text))

    async def press(self, user: int, data: str) -> int:
        return await self._post(callback_update(next(_updates), user, data))

    async def _post(self, update: dict[str, Any]) -> int:
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        response = await self.client.post("/webhook/telegram", json=update, headers=headers)
        return response.status


def budget_of(
    app: App, settings: Settings, channel: TelegramChannel, *, shared: bool
) -> SendLimiter:
    """The process's limiter as the server builds it (``bot.server.send_budget``)."""
    arrivals = {Channel.TELEGRAM: channel.arrivals}
    if shared and app.engine.dialect.name != "sqlite":
        return SharedPace(operator_budgets(settings), app.uow, arrivals=arrivals)
    return PlatformLimits.from_settings(settings, arrivals)


@asynccontextmanager
async def process(
    app: App,
    base: str,
    *,
    dispatching: bool = True,
    shared: bool = False,
    rate: float | None = None,
) -> AsyncIterator[Process]:
    """Serve Telegram webhooks of ``app`` against the fake at ``base``; with ``dispatching``
    the outbox dispatcher runs too, on the same limiter (the leader)."""
    settings = app.settings.model_copy(
        update={
            "telegram_bot_token": "123456789:TEST-fake-token_abcdefghijklmnopqrstu",
            "telegram_webhook_secret": SECRET,
            "telegram_api_base": base,
            "telegram_rate": rate or app.settings.telegram_rate,
        }
    )
    channel = TelegramChannel(settings, app.bus, app.uow, app.clock)
    limiter = budget_of(app, settings, channel, shared=shared)
    channel.replies.limiter = limiter
    stop = asyncio.Event()
    task = None
    if dispatching:
        dispatcher = OutboxDispatcher(
            app.uow, SystemClock(), {Channel.TELEGRAM: channel}, limiter=limiter, poll_seconds=0.2
        )
        app.bus.on_commit = dispatcher.kick
        task = asyncio.create_task(dispatcher.run(stop))
    server = TestServer(build_web_app(app, [channel]), host="127.0.0.1")
    try:
        async with TestClient(server) as client:
            yield Process(app, channel, client, limiter)
    finally:
        stop.set()
        if task is not None:
            await task
        app.bus.on_commit = None
        await channel.close()


def real_time(clock: FrozenClock) -> None:
    """Rows are queued at the app's clock and sent on the real one: make them agree."""
    clock.set(SystemClock().now())


async def until(condition: Any, seconds: float, what: str) -> None:
    for _ in range(int(seconds / 0.05)):
        if await condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{what}: not reached in {seconds} s")


def texts(fake: FakeTelegramAPI, chat: int) -> list[str]:
    return [call.text for call in fake.sent(chat)]
