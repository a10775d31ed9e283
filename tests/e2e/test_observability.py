"""Observability through real HTTP: /metrics counters, /healthz on a dead database, log ids."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import metrics
from bot.bootstrap import App, bootstrap
from bot.config import Settings
from bot.core.messages import Channel
from bot.logging_context import ContextFilter
from bot.web import build_web_app
from simulator.fakes.telegram_updates import text_update
from storage.db import create_engine
from tests.e2e.telegram_world import SECRET, TelegramWorld, telegram_world
from tests.unit.staff_support import make_member

USER = 5550101


@pytest.fixture
async def tg(app: App) -> AsyncIterator[TelegramWorld]:
    async with telegram_world(app) as world:
        yield world


def _value(name: str, **labels: str) -> float:
    return metrics.sample(name, labels)


async def test_metrics_count_a_handled_telegram_update_and_its_reply(tg: TelegramWorld) -> None:
    handled = {"channel": "telegram", "result": "handled"}
    before = _value("chatcrm_updates_total", **handled)
    latency_before = _value("chatcrm_handler_seconds_count", channel="telegram")
    sends_before = _value("chatcrm_sends_total", channel="telegram", path="reply", result="sent")

    assert await tg.post(text_update(31, USER, "/start")) == 200
    body = await (await tg.client.get("/metrics")).text()

    assert _value("chatcrm_updates_total", **handled) == before + 1
    assert _value("chatcrm_handler_seconds_count", channel="telegram") == latency_before + 1
    sent = _value("chatcrm_sends_total", channel="telegram", path="reply", result="sent")
    assert sent == sends_before + len(tg.fake.sent(USER))
    assert 'chatcrm_updates_total{channel="telegram",result="handled"}' in body


async def test_metrics_count_a_duplicate_and_a_wrong_secret_apart(tg: TelegramWorld) -> None:
    duplicate = {"channel": "telegram", "result": "duplicate"}
    rejected = {"channel": "telegram", "result": "rejected"}
    duplicates, rejections = (
        _value("chatcrm_updates_total", **duplicate),
        _value("chatcrm_updates_total", **rejected),
    )

    assert await tg.post(text_update(32, USER, "/start")) == 200
    assert await tg.post(text_update(32, USER, "/start")) == 200
    assert await tg.post(text_update(33, USER, "/start"), secret=SECRET + "x") == 401

    assert _value("chatcrm_updates_total", **duplicate) == duplicates + 1
    assert _value("chatcrm_updates_total", **rejected) == rejections + 1


async def test_metrics_report_the_outbox_depth_read_at_scrape(tg: TelegramWorld) -> None:
    async with tg.app.uow() as uow:
        for key in ("a", "b"):
            await uow.outbox.enqueue(f"obs:{key}", "telegram", "42", {}, tg.app.clock.now())
        await uow.commit()

    body = await (await tg.client.get("/metrics")).text()

    assert 'chatcrm_outbox_pending{channel="telegram"} 2.0' in body
    assert _value("chatcrm_outbox_pending", channel=Channel.LINE.value) == 0


async def test_healthz_is_503_with_a_reason_when_the_database_is_gone(
    tmp_path: Path, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    missing = tmp_path / "no-such-folder" / "gone.db"
    engine = create_engine(f"sqlite+aiosqlite:///{missing}")
    app = await bootstrap(settings=settings, engine=engine, migrate=False)
    client: TestClient[object, object] = TestClient(TestServer(build_web_app(app, [])))
    await client.start_server()
    try:
        response = await client.get("/healthz")
        body = await response.json()
        assert response.status == 503
        assert body["status"] == "error"
        # the reason is generic for the public; the database's own words are in the log
        assert body["database"] == "unavailable"
        assert "no-such-folder" not in await response.text()
        assert "unable to open database file" in caplog.text
    finally:
        await client.close()
        await app.close()


async def test_healthz_names_no_database_detail_on_either_database(
    tmp_path: Path, settings: Settings, engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    if engine.dialect.name == "sqlite":
        logged, broken = "unable to open", f"sqlite+aiosqlite:///{tmp_path}/no-such-folder/x.db"
    else:  # a database that does not exist on the test server: its name is in the error
        logged = "chatcrm_no_such_db"
        broken = engine.url.set(database=logged).render_as_string(hide_password=False)
    app = await bootstrap(settings=settings, engine=create_engine(broken), migrate=False)
    client: TestClient[object, object] = TestClient(TestServer(build_web_app(app, [])))
    await client.start_server()
    try:
        response = await client.get("/healthz")
        assert response.status == 503
        assert await response.json() == {"status": "error", "database": "unavailable"}
        assert logged in caplog.text  # the operator still reads why
    finally:
        await client.close()
        await app.close()


async def test_log_record_of_a_handled_update_carries_channel_event_and_member(
    tg: TelegramWorld, caplog: pytest.LogCaptureFixture
) -> None:
    member = await make_member(tg.app, user_id=str(USER))
    caplog.handler.addFilter(ContextFilter())
    caplog.set_level(logging.DEBUG, logger="handlers.bus")

    assert await tg.post(text_update(34, USER, "/points")) == 200

    (record,) = [r for r in caplog.records if r.name == "handlers.bus"]
    assert record.channel == "telegram"  # type: ignore[attr-defined]
    assert record.event_id == "tg:34"  # type: ignore[attr-defined]
    assert record.member_id == member.id  # type: ignore[attr-defined]
