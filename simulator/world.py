"""The simulated shop's wiring: the real web app with the real Telegram and LINE channels,
each talking to its local fake, and webhook events posted to it over HTTP.

What a person does arrives the way the platform would send it: Telegram updates with the
webhook secret, LINE events signed with the channel secret. What the bot sends is read back
from the fakes (:meth:`HttpWorld.outgoing`): every push the platform accepted or refused,
with its recipient, status and the button actions it carried.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

import aiohttp
from aiohttp.test_utils import TestServer

from bot.bootstrap import App
from bot.channels import line as line_channel
from bot.channels.line import LineChannel
from bot.channels.telegram import SECRET_HEADER, TelegramChannel
from bot.channels.telegram import WEBHOOK_PATH as TELEGRAM_PATH
from bot.channels.webhook import WebhookChannel
from bot.core.messages import Channel
from bot.core.ports import Outbound
from bot.web import build_web_app
from simulator.fakes.line_api import FakeLineApi
from simulator.fakes.line_webhooks import (
    line_settings,
    postback_event,
    signed_webhook,
    text_event,
    unfollow_event,
)
from simulator.fakes.telegram_api import TOKEN, FakeTelegramAPI, serving
from simulator.fakes.telegram_updates import callback_update, member_update, text_update

TELEGRAM_SECRET: Final = "simulated-shop-secret"  # noqa: S105 - the local fake's, not a real one
SEND_ENDPOINTS: Final = ("push", "multicast")


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message the bot pushed, as the platform saw it (``status`` 200 = delivered)."""

    channel: str
    user_id: str
    status: int
    text: str
    #: button payloads the message carried (``cmp:12`` …)
    actions: tuple[str, ...]


class World(Protocol):
    """What the loop needs of a driver: :class:`simulator.world.HttpWorld` (webhooks over
    HTTP to the real web app) or :class:`simulator.inprocess.InProcessWorld` (the bus)."""

    @property
    def channels(self) -> Mapping[Channel, Outbound]: ...

    async def say(self, channel: str, user_id: str, text: str) -> str: ...

    async def press(self, channel: str, user_id: str, data: str) -> str: ...

    async def block(self, channel: str, user_id: str) -> None: ...

    def refuse_always(self, channel: str, user_id: str) -> None: ...

    def refuse_once(self, channel: str, user_id: str) -> None: ...

    def outgoing(self) -> list[Outgoing]: ...


@dataclass
class HttpWorld:
    """The running web app and fakes; ``say``/``press``/``block`` act as a person would."""

    app: App
    telegram: FakeTelegramAPI
    line: FakeLineApi
    channels: dict[Channel, WebhookChannel]
    base_url: str
    session: aiohttp.ClientSession
    _update_ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    _telegram_seen: int = 0
    _line_seen: int = 0
    #: ids of the fakes' calls that answered a person's own event (not pushes)
    _answers: set[int] = field(default_factory=set)

    async def say(self, channel: str, user_id: str, text: str) -> str:
        """``user_id`` types ``text``; returns the text of what the bot answered."""
        if channel == "telegram":
            return await self._telegram(
                user_id, text_update(next(self._update_ids), int(user_id), text)
            )
        token = self.line.issue_reply_token(user_id)
        return await self._line(user_id, text_event(user_id, text, token, self.app.clock.now()))

    async def press(self, channel: str, user_id: str, data: str) -> str:
        """``user_id`` presses the button carrying ``data``; returns the answer's text."""
        if channel == "telegram":
            update = callback_update(next(self._update_ids), int(user_id), data)
            return await self._telegram(user_id, update)
        token = self.line.issue_reply_token(user_id)
        return await self._line(user_id, postback_event(user_id, data, token, self.app.clock.now()))

    async def block(self, channel: str, user_id: str) -> None:
        """``user_id`` blocks the bot: the platform tells the bot and refuses further pushes."""
        if channel == "telegram":
            update = member_update(next(self._update_ids), int(user_id), "member", "kicked")
            await self._telegram(user_id, update)
            self.telegram.block(int(user_id))
        else:
            await self._line(user_id, unfollow_event(user_id, self.app.clock.now()))

    def refuse_always(self, channel: str, user_id: str) -> None:
        """The platform refuses every message to ``user_id`` as blocked, and tells nobody
        (Telegram only: a block made long ago, before the bot could hear of it)."""
        if channel == "telegram":
            self.telegram.block(int(user_id))

    def refuse_once(self, channel: str, user_id: str) -> None:
        """The platform refuses the next message to ``user_id`` (a broken chat; Telegram)."""
        if channel == "telegram":
            self.telegram.fail(400, "Bad Request: chat not found", chat_id=int(user_id), times=1)

    def outgoing(self) -> list[Outgoing]:
        """The pushes made since the last call (replies to a person's own event excluded)."""
        out: list[Outgoing] = []
        calls = self.telegram.calls[self._telegram_seen :]
        self._telegram_seen += len(calls)
        for call in calls:
            if id(call) in self._answers:
                continue
            if call.method in ("sendMessage", "sendPhoto", "sendDocument") and call.chat_id:
                actions = tuple(call.callback_data().values())
                out.append(Outgoing("telegram", str(call.chat_id), call.status, call.text, actions))
        line_calls = self.line.calls[self._line_seen :]
        self._line_seen += len(line_calls)
        for line_call in line_calls:
            if line_call.endpoint not in SEND_ENDPOINTS or id(line_call) in self._answers:
                continue
            body = line_call.json if isinstance(line_call.json, dict) else {}
            to = body.get("to")
            text = "\n".join(
                str(m.get("text") or m.get("altText") or "") for m in line_call.messages
            )
            actions = tuple(_postbacks(line_call.messages))
            for user_id in to if isinstance(to, list) else [to]:
                out.append(Outgoing("line", str(user_id), line_call.status, text, actions))
        return out

    async def _telegram(self, user_id: str, update: dict[str, Any]) -> str:
        before = len(self.telegram.sent(int(user_id)))
        start = len(self.telegram.calls)
        headers = {"Content-Type": "application/json", SECRET_HEADER: TELEGRAM_SECRET}
        url = self.base_url + TELEGRAM_PATH
        async with self.session.post(url, data=json.dumps(update), headers=headers) as response:
            if response.status != 200:
                raise RuntimeError(f"Telegram webhook answered {response.status}")
        self._answers.update(id(call) for call in self.telegram.calls[start:])
        return "\n".join(c.text for c in self.telegram.sent(int(user_id))[before:])

    async def _line(self, user_id: str, event: dict[str, Any]) -> str:
        before = len(self.line.messages_to(user_id))
        start = len(self.line.calls)
        body, signature = signed_webhook([event])
        headers = {"Content-Type": "application/json", "X-Line-Signature": signature}
        url = self.base_url + line_channel.WEBHOOK_PATH
        async with self.session.post(url, data=body, headers=headers) as response:
            if response.status != 200:
                raise RuntimeError(f"LINE webhook answered {response.status}")
        self._answers.update(id(call) for call in self.line.calls[start:])
        messages = self.line.messages_to(user_id)[before:]
        return "\n".join(str(m.get("text") or m.get("altText") or "") for m in messages)


def _postbacks(value: Any) -> Iterator[str]:
    """Every postback ``data`` inside LINE message objects (buttons, quick replies, flex)."""
    if isinstance(value, dict):
        if value.get("type") == "postback" and isinstance(value.get("data"), str):
            yield value["data"]
        for item in value.values():
            yield from _postbacks(item)
    elif isinstance(value, list):
        for item in value:
            yield from _postbacks(item)


@asynccontextmanager
async def http_world(app: App) -> AsyncIterator[HttpWorld]:
    """Start both fakes and the real web app on free local ports, wired to ``app``."""
    line = FakeLineApi()
    async with serving() as (telegram, telegram_base), line.running():
        settings = line_settings(app.settings, line).model_copy(
            update={
                "telegram_bot_token": TOKEN,
                "telegram_webhook_secret": TELEGRAM_SECRET,
                "telegram_api_base": telegram_base,
            }
        )
        tg = TelegramChannel(settings, app.bus, app.uow, app.clock)
        ln = LineChannel(settings, app.bus, app.uow, app.clock)
        channels: dict[Channel, WebhookChannel] = {Channel.TELEGRAM: tg, Channel.LINE: ln}
        server = TestServer(build_web_app(app, [tg, ln]), host="127.0.0.1")
        await server.start_server()
        try:
            async with aiohttp.ClientSession() as session:
                base = str(server.make_url("")).rstrip("/")
                yield HttpWorld(app, telegram, line, channels, base, session)
        finally:
            await server.close()
            await tg.close()
            await ln.close()
