"""/healthz: the public learns ok or not; the status token holder learns what `status` shows."""

from __future__ import annotations

from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer

from bot.bootstrap import App, bootstrap
from bot.config import Settings
from bot.web import build_web_app
from storage.db import create_engine

TOKEN = "s3cret-status-token"


async def _client(app: App) -> TestClient[object, object]:
    client: TestClient[object, object] = TestClient(TestServer(build_web_app(app, [])))
    await client.start_server()
    return client


def _with_token(app: App) -> App:
    app.settings = app.settings.model_copy(update={"status_token": TOKEN})
    return app


async def test_the_public_answer_is_only_ok(app: App) -> None:
    client = await _client(_with_token(app))
    try:
        response = await client.get("/healthz")
        assert (response.status, await response.json()) == (200, {"status": "ok"})
    finally:
        await client.close()


async def test_the_status_token_adds_channels_outbox_leader_and_jobs(app: App) -> None:
    async with app.uow() as uow:
        await uow.outbox.enqueue("k", "telegram", "u1", {}, app.clock.now())
        await uow.commit()
    client = await _client(_with_token(app))
    try:
        response = await client.get("/healthz", headers={"Authorization": f"Bearer {TOKEN}"})
        body = await response.json()
    finally:
        await client.close()
    assert response.status == 200
    assert body["status"] == "ok"
    assert body["channels"] == {"line": False, "telegram": False}
    assert body["outbox"] == {"telegram": {"due": 1, "deferred": 0, "failed": 0}}
    assert body["leader"]["elected"] is (app.engine.dialect.name == "postgresql")
    assert "automations.winback" in {job["id"] for job in body["jobs"]}


async def test_a_wrong_token_is_refused_and_shows_nothing(app: App) -> None:
    client = await _client(_with_token(app))
    try:
        for header in (f"Bearer {TOKEN}x", TOKEN, "Bearer "):
            response = await client.get("/healthz", headers={"Authorization": header})
            assert response.status == 401
            assert await response.json() == {"status": "unauthorized"}
    finally:
        await client.close()


async def test_a_token_is_refused_when_none_is_configured(app: App) -> None:
    client = await _client(app)
    try:
        response = await client.get("/healthz", headers={"Authorization": "Bearer anything"})
        assert response.status == 401
    finally:
        await client.close()


async def test_with_the_token_a_dead_database_still_names_nothing(
    tmp_path: Path, settings: Settings
) -> None:
    missing = tmp_path / "no-such-folder" / "gone.db"
    engine = create_engine(f"sqlite+aiosqlite:///{missing}")
    settings = settings.model_copy(update={"status_token": TOKEN})
    app = await bootstrap(settings=settings, engine=engine, migrate=False)
    client = await _client(app)
    try:
        response = await client.get("/healthz", headers={"Authorization": f"Bearer {TOKEN}"})
        assert response.status == 503
        assert await response.json() == {"status": "error", "database": "unavailable"}
    finally:
        await client.close()
        await app.close()
