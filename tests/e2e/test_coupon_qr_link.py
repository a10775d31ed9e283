"""A coupon's QR link on LINE lives as long as the coupon, and dies when the coupon is used."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.bootstrap import App
from bot.channels.line import LineChannel
from bot.channels.line.render import IMAGE_TTL
from bot.core.clock import FrozenClock
from bot.core.messages import Channel
from bot.web import build_web_app
from handlers.customer.rewards import SHOW_COUPON
from shop.coupons import display_code
from simulator.fakes.line_api import FakeLineApi
from simulator.fakes.line_webhooks import line_settings
from storage.models import Coupon
from tests.chat import Chat
from tests.unit.rewards_support import make_coupon
from tests.unit.staff_support import make_member, staff_chat

USER = "U" + "c0" * 16


@pytest.fixture
async def line(app: App) -> AsyncIterator[LineChannel]:
    fake = FakeLineApi()
    async with fake.running():
        channel = LineChannel(line_settings(app.settings, fake), app.bus, app.uow, app.clock)
        yield channel
        await channel.close()


@pytest.fixture
async def client(app: App) -> AsyncIterator[TestClient[object, object]]:
    client: TestClient[object, object] = TestClient(TestServer(build_web_app(app, [])))
    await client.start_server()
    yield client
    await client.close()


async def _qr_path(app: App, line: LineChannel, valid: timedelta) -> tuple[Coupon, str]:
    """A coupon valid for ``valid``, shown to its LINE member from /coupons: the QR's path."""
    member = await make_member(app, "Ploy", "081-234-5678", user_id=USER, channel=Channel.LINE)
    coupon = await make_coupon(app, member.id, valid=valid)
    replies = await Chat(app, user_id=USER, channel=Channel.LINE).press(
        f"{SHOW_COUPON}:{coupon.id}"
    )
    messages = await line.render(USER, replies)
    [image] = [m for m in messages if m["type"] == "image"]
    return coupon, urlsplit(image["originalContentUrl"]).path


async def test_the_qr_link_still_works_after_the_image_lifetime_while_the_coupon_is_valid(
    app: App, line: LineChannel, client: TestClient[object, object]
) -> None:
    assert isinstance(app.clock, FrozenClock)
    _, path = await _qr_path(app, line, valid=timedelta(days=30))
    app.clock.advance(IMAGE_TTL + timedelta(days=1))
    response = await client.get(path)
    assert response.status == 200
    assert (await response.read()).startswith(b"\x89PNG")


async def test_the_qr_link_dies_when_the_coupon_is_used(
    app: App, line: LineChannel, client: TestClient[object, object]
) -> None:
    coupon, path = await _qr_path(app, line, valid=timedelta(days=30))
    assert (await client.get(path)).status == 200
    cashier = await staff_chat(app, "c1", "cashier", branch_code="asoke")
    await cashier.say(f"/redeem {display_code(coupon.code)}")
    assert "ชานมไข่มุกฟรี" in cashier.text()
    assert (await client.get(path)).status == 404


async def test_the_qr_link_dies_when_the_coupon_expires(
    app: App, line: LineChannel, client: TestClient[object, object]
) -> None:
    assert isinstance(app.clock, FrozenClock)
    _, path = await _qr_path(app, line, valid=timedelta(days=3))
    app.clock.advance(timedelta(days=2))
    assert (await client.get(path)).status == 200
    app.clock.advance(timedelta(days=1, seconds=1))
    assert (await client.get(path)).status == 404
