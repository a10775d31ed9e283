"""The Telegram end-to-end setting: the real web app on one port, the fake Bot API on another."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select

from bot.bootstrap import App
from bot.channels.telegram import SECRET_HEADER, WEBHOOK_PATH, TelegramChannel
from bot.web import build_web_app
from simulator.fakes.telegram_api import TOKEN, FakeTelegramAPI, serving
from storage.models import Base, Branch
from storage.raw_session import session_of

SECRET = "s3cret-Webhook_token"


@dataclass
class TelegramWorld:
    app: App
    fake: FakeTelegramAPI
    channel: TelegramChannel
    client: TestClient[Any, Any]

    async def post(self, update: Any, secret: str | None = SECRET) -> int:
        """POST ``update`` (a dict, or raw text) as Telegram would; returns the HTTP status."""
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers[SECRET_HEADER] = secret
        body = update if isinstance(update, str) else json.dumps(update)
        response = await self.client.post(WEBHOOK_PATH, data=body, headers=headers)
        return response.status

    async def count(self, model: type[Base]) -> int:
        async with self.app.engine.connect() as connection:
            result = await connection.execute(select(func.count()).select_from(model))
            return int(result.scalar_one())


@asynccontextmanager
async def telegram_world(app: App) -> AsyncIterator[TelegramWorld]:
    async with serving() as (fake, base):
        settings = app.settings.model_copy(
            update={
                "telegram_bot_token": TOKEN,
                "telegram_webhook_secret": SECRET,
                "telegram_api_base": base,
            }
        )
        channel = TelegramChannel(settings, app.bus, app.uow, app.clock)
        server = TestServer(build_web_app(app, [channel]), host="127.0.0.1")
        async with TestClient(server) as client:
            yield TelegramWorld(app, fake, channel, client)


@asynccontextmanager
async def telegram_world_with_branch(app: App) -> AsyncIterator[TelegramWorld]:
    """:func:`telegram_world` in a shop with one open branch (Asoke), as sign-up asks for."""
    async with app.uow() as uow:
        session_of(uow).add(Branch(code="asoke", name_th="อโศก", name_en="Asoke", active=True))
        await uow.commit()
    async with telegram_world(app) as world:
        yield world
