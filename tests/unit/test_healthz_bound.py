"""``/healthz`` answers within its own bound even when its database check cannot be stopped
(SQLite's driver thread does not wake for a cancel while it waits for a lock), and the checks
that come meanwhile join the one running instead of taking a connection each."""

from __future__ import annotations

import asyncio
import threading

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot import web
from bot.bootstrap import App
from storage.db import Database

#: a hang guard for the test, never a measured duration
HANG = 120


async def test_healthz_answers_503_at_its_bound_while_the_check_cannot_be_stopped(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = threading.Event()
    checks: list[int] = []

    async def unstoppable(_: Database) -> None:
        checks.append(1)
        waiting = asyncio.ensure_future(asyncio.to_thread(release.wait))
        while True:  # as the driver's thread: a cancel does not end the wait
            try:
                await asyncio.shield(waiting)
                return
            except asyncio.CancelledError:
                continue

    monkeypatch.setattr(web, "ping", unstoppable)
    monkeypatch.setattr(web, "HEALTH_TIMEOUT", 0.05)
    client = TestClient(TestServer(web.build_web_app(app, [])))
    await client.start_server()
    try:
        first = await asyncio.wait_for(client.get("/healthz"), HANG)
        again = await asyncio.wait_for(client.get("/healthz"), HANG)
        assert not release.is_set()  # both answered while the check was still stuck
        assert (first.status, await first.json()) == (
            503,
            {"status": "error", "database": "unavailable"},
        )
        assert again.status == 503
        assert len(checks) == 1  # the second joined the running check

        release.set()
        for _ in range(HANG * 100):  # the stuck check ends once the database lets it
            ok = await client.get("/healthz")
            if ok.status == 200:
                break
            await asyncio.sleep(0.01)
        assert (ok.status, await ok.json()) == (200, {"status": "ok"})
    finally:
        release.set()
        await client.close()
