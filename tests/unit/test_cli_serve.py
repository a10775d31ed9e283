"""``serve`` wires the web app, the channels and the scheduler, and stops cleanly."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import aiohttp
import pytest

from bot.config import Settings
from bot.server import serve


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _settings(tmp_path: Path, **extra: str) -> Settings:
    return Settings(
        CHATCRM_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'serve.db'}",
        CHATCRM_HOST="127.0.0.1",
        CHATCRM_PORT=_free_port(),
        _env_file=None,  # type: ignore[call-arg]
        **extra,
    )


async def _get_when_up(session: aiohttp.ClientSession, url: str) -> aiohttp.ClientResponse:
    for _ in range(200):
        try:
            return await session.get(url)
        except aiohttp.ClientConnectionError:
            await asyncio.sleep(0.025)
    raise AssertionError(f"{url} never answered")


@pytest.mark.e2e
async def test_serve_answers_healthz_and_stops_when_told(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    stop = asyncio.Event()
    server = asyncio.create_task(serve(settings, stop))
    base = f"http://127.0.0.1:{settings.port}"
    async with aiohttp.ClientSession() as session:
        response = await _get_when_up(session, f"{base}/healthz")
        assert (response.status, await response.json()) == (200, {"status": "ok"})
    stop.set()
    await asyncio.wait_for(server, 10)
    assert (tmp_path / "serve.db").exists()  # migrated on start


@pytest.mark.e2e
async def test_serve_mounts_the_webhooks_of_configured_channels(tmp_path: Path) -> None:
    settings = _settings(
        tmp_path,
        TELEGRAM_BOT_TOKEN="123:abc",
        TELEGRAM_WEBHOOK_SECRET="s3cret",
        TELEGRAM_API_BASE="http://127.0.0.1:9",
        LINE_CHANNEL_SECRET="line-secret",
        LINE_CHANNEL_ACCESS_TOKEN="line-token",
        LINE_API_BASE="http://127.0.0.1:9",
        LINE_DATA_API_BASE="http://127.0.0.1:9",
    )
    stop = asyncio.Event()
    server = asyncio.create_task(serve(settings, stop))
    base = f"http://127.0.0.1:{settings.port}"
    try:
        async with aiohttp.ClientSession() as session:
            await _get_when_up(session, f"{base}/healthz")
            telegram = await session.post(f"{base}/webhook/telegram", json={"update_id": 1})
            line = await session.post(f"{base}/webhook/line", json={"events": []})
        # no secret, no signature: refused, which proves both routes are mounted
        assert 400 <= telegram.status < 500
        assert 400 <= line.status < 500
    finally:
        stop.set()
        await asyncio.wait_for(server, 10)
