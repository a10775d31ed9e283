"""The shared web app's own endpoints: health, metrics and media links."""

from __future__ import annotations

from datetime import timedelta

from aiohttp.test_utils import TestClient, TestServer

from bot.bootstrap import App
from bot.web import build_web_app


async def _client(app: App) -> TestClient[object, object]:
    client: TestClient[object, object] = TestClient(TestServer(build_web_app(app, [])))
    await client.start_server()
    return client


async def test_healthz_reports_ok_when_the_database_answers(app: App) -> None:
    client = await _client(app)
    try:
        response = await client.get("/healthz")
        assert response.status == 200
        assert (await response.json())["status"] == "ok"
    finally:
        await client.close()


async def test_metrics_are_prometheus_text(app: App) -> None:
    client = await _client(app)
    try:
        response = await client.get("/metrics")
        assert response.status == 200
        assert "python_info" in await response.text()
    finally:
        await client.close()


async def test_media_link_serves_until_it_expires(app: App) -> None:
    async with app.uow() as uow:
        token = await uow.media.put(
            "card.png", "image/png", b"\x89PNG...", app.clock.now() + timedelta(hours=1)
        )
        await uow.commit()
    client = await _client(app)
    try:
        response = await client.get(f"/media/{token}/card.png")
        assert response.status == 200
        assert await response.read() == b"\x89PNG..."
        assert response.content_type == "image/png"
        app.clock.advance(timedelta(hours=2))  # type: ignore[attr-defined]
        assert (await client.get(f"/media/{token}/card.png")).status == 404
        assert (await client.get("/media/not-a-token/card.png")).status == 404
    finally:
        await client.close()
