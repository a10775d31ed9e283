"""The dispatcher wired into the long-running modes, sending through the real adapters to the
HTTP fakes: serve delivers queued rows, a LINE re-send after a crash is not a second message,
and the console chat shows messages queued for its user."""

from __future__ import annotations

import asyncio
import io
import socket
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import update

from bot.bootstrap import App, bootstrap
from bot.channels.line import LineChannel
from bot.config import Settings
from bot.core.clock import FrozenClock
from bot.core.messages import Channel, Reply
from bot.core.wire import replies_to_payload
from bot.server import chat, serve
from jobs.dispatcher import LEASE, OutboxDispatcher
from simulator.fakes import line_api
from simulator.fakes.line_api import FakeLineApi
from simulator.fakes.telegram_api import TOKEN, serving
from storage.models import OutboxMessage
from storage.raw_session import session_of


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _settings(tmp_path: Path, **extra: object) -> Settings:
    return Settings(
        CHATCRM_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'shop.db'}",
        CHATCRM_HOST="127.0.0.1",
        CHATCRM_PORT=_free_port(),
        _env_file=None,  # type: ignore[call-arg]
        **extra,
    )


async def _queue(settings: Settings, rows: list[tuple[str, str, str, str]]) -> None:
    """Queue (key, channel, user id, text) rows in the shop's database, as a handler would."""
    app = await bootstrap(settings)
    try:
        async with app.uow() as uow:
            for key, channel, user_id, text in rows:
                payload = replies_to_payload([Reply(text=text)])
                await uow.outbox.enqueue(key, channel, user_id, payload, app.clock.now())
            await uow.commit()
    finally:
        await app.close()


async def _eventually(condition: Callable[[], bool]) -> None:
    for _ in range(400):
        if condition():
            return
        await asyncio.sleep(0.025)
    raise AssertionError("the condition never held")


@pytest.mark.e2e
async def test_serve_sends_queued_messages_through_telegram_and_line(tmp_path: Path) -> None:
    line = FakeLineApi()
    async with serving() as (telegram, telegram_base), line.running() as line_base:
        settings = _settings(
            tmp_path,
            TELEGRAM_BOT_TOKEN=TOKEN,
            TELEGRAM_WEBHOOK_SECRET="s3cret",
            TELEGRAM_API_BASE=telegram_base,
            LINE_CHANNEL_SECRET=line_api.CHANNEL_SECRET,
            LINE_CHANNEL_ACCESS_TOKEN=line_api.ACCESS_TOKEN,
            LINE_API_BASE=line_base,
            LINE_DATA_API_BASE=line_base,
        )
        await _queue(settings, [("a", "telegram", "42", "receipt"), ("b", "line", "U1", "hi")])
        stop = asyncio.Event()
        server = asyncio.create_task(serve(settings, stop))
        try:
            await _eventually(lambda: bool(telegram.sent(42)) and bool(line.messages_to("U1")))
        finally:
            stop.set()
            await asyncio.wait_for(server, 10)
    assert [call.text for call in telegram.sent(42)] == ["receipt"]
    assert [m["text"] for m in line.messages_to("U1")] == ["hi"]


async def test_a_line_resend_after_a_crash_is_not_a_second_message(
    app: App, settings: Settings, clock: FrozenClock
) -> None:
    fake = FakeLineApi()
    async with fake.running() as base:
        line_settings = settings.model_copy(
            update={
                "line_channel_secret": line_api.CHANNEL_SECRET,
                "line_channel_access_token": line_api.ACCESS_TOKEN,
                "line_api_base": base,
                "line_data_api_base": base,
            }
        )
        channel = LineChannel(line_settings, app.bus, app.uow, app.clock)
        try:
            async with app.uow() as uow:
                payload = replies_to_payload([Reply(text="+40 points")])
                await uow.outbox.enqueue("k", "line", "U1", payload, app.clock.now())
                await uow.commit()
            dispatcher = OutboxDispatcher(app.uow, app.clock, {Channel.LINE: channel})
            await dispatcher.drain_once()
            async with app.uow() as uow:  # as if the process died before recording "sent"
                await session_of(uow).execute(
                    update(OutboxMessage).values(status="pending", sent_at=None)
                )
                await uow.commit()
            clock.advance(LEASE)  # the dead process's claim runs out
            result = await dispatcher.drain_once()
        finally:
            await channel.close()
    assert result.sent == 1  # LINE's 409 for the repeated retry key counts as accepted
    assert [m["text"] for m in fake.messages_to("U1")] == ["+40 points"]
    assert [call.status for call in fake.calls_to("push")] == [200, 409]


class _TypesAfter(io.StringIO):
    """Terminal input that types ``/quit`` only once ``marker`` was printed to ``output``."""

    def __init__(self, output: io.StringIO, marker: str) -> None:
        super().__init__()
        self._output, self._marker = output, marker
        self._done = threading.Event()

    def readline(self, size: int | None = -1) -> str:  # called in a worker thread
        for _ in range(400):
            if self._marker in self._output.getvalue():
                return "/quit\n"
            self._done.wait(0.025)
        return "/quit\n"


async def test_chat_shows_messages_queued_for_the_console_user(tmp_path: Path) -> None:
    settings = _settings(tmp_path, CHATCRM_LOCALE="en")
    await _queue(settings, [("a", "console", "owner", "Approve sale R1?")])
    out = io.StringIO()
    await chat(settings, "owner", input=_TypesAfter(out, "Approve sale R1?"), output=out)
    assert "Approve sale R1?" in out.getvalue()
