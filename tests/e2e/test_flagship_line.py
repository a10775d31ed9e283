"""SPEC §2's flagship scenario on LINE: signed webhooks into the real web app, the fake LINE
API behind the real channel adapter, the monthly quota read live for the preview."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from bot.bootstrap import App
from bot.channels.line import WEBHOOK_PATH, LineChannel
from bot.core.clock import FrozenClock
from bot.core.messages import Channel
from bot.core.quota import BoundedQuota
from bot.web import build_web_app
from jobs.dispatcher import OutboxDispatcher
from simulator.fakes.line_api import FakeLineApi
from simulator.fakes.line_webhooks import line_settings, postback_event, signed_webhook, text_event
from tests.e2e import flagship_support as shop
from tests.unit.staff_support import make_staff

OWNER = "U" + "a" * 32
CASHIER = "U" + "b" * 32


def _texts(messages: list[dict[str, Any]]) -> str:
    return "\n".join(str(m.get("text") or m.get("altText") or "") for m in messages)


class LineScript:
    def __init__(self, app: App, fake: FakeLineApi, url: str) -> None:
        self.app, self.fake, self.url = app, fake, url

    async def _deliver(self, user_id: str, event: dict[str, Any]) -> str:
        before = len(self.fake.messages_to(user_id))
        body, signature = signed_webhook([event])
        headers = {"Content-Type": "application/json", "X-Line-Signature": signature}
        async with (
            aiohttp.ClientSession() as session,
            session.post(self.url, data=body, headers=headers) as response,
        ):
            assert response.status == 200
        return _texts(self.fake.messages_to(user_id)[before:])

    async def say(self, user_id: str, text: str) -> str:
        token = self.fake.issue_reply_token(user_id)
        return await self._deliver(user_id, text_event(user_id, text, token, self.app.clock.now()))

    async def press(self, user_id: str, data: str) -> str:
        token = self.fake.issue_reply_token(user_id)
        event = postback_event(user_id, data, token, self.app.clock.now())
        return await self._deliver(user_id, event)


@pytest.fixture
async def world(app: App) -> AsyncIterator[tuple[LineScript, LineChannel]]:
    fake = FakeLineApi()
    fake.quota_limit = 1000
    async with fake.running():
        channel = LineChannel(line_settings(app.settings, fake), app.bus, app.uow, app.clock)
        app.bus.quota_reader = BoundedQuota(channel.quota)  # as bot.server wires it
        server = TestServer(build_web_app(app, [channel]), host="127.0.0.1")
        await server.start_server()
        try:
            url = str(server.make_url("")).rstrip("/") + WEBHOOK_PATH
            yield LineScript(app, fake, url), channel
        finally:
            app.bus.quota_reader = None
            await server.close()


async def test_flagship_campaign_on_line(
    app: App, clock: FrozenClock, world: tuple[LineScript, LineChannel]
) -> None:
    s, channel = world
    users = [f"U{n:032x}" for n in range(1, 31)]
    members = await shop.build_shop(app, Channel.LINE, users)
    await make_staff(app, OWNER, "owner", channel=Channel.LINE)
    await make_staff(app, CASHIER, "cashier", branch_code="asoke", channel=Channel.LINE)
    async with app.uow() as uow:
        await uow.settings.put("campaign", {"line_message_price": "0.10"}, clock.now())
        await uow.commit()

    segment_reply, campaign_id = await shop.owner_builds_the_campaign(app, s, OWNER)
    assert "tea5" in segment_reply
    recipients, holdout = shop.split(campaign_id, members)

    preview = await s.say(OWNER, f"/campaign preview {campaign_id}")
    n = len(recipients)
    assert f"จะส่งถึง: {n} คน" in preview
    assert f"LINE: {n} ข้อความ × 0.10 บาท = {Decimal('0.10') * n:.2f} บาท" in preview
    assert f"ใช้ไป 0 จาก 1,000 เหลือ 1,000 แคมเปญนี้ใช้ {n}" in preview

    await s.press(OWNER, f"cmpa:send:{campaign_id}")
    dispatcher = OutboxDispatcher(app.uow, app.clock, {Channel.LINE: channel})
    for _ in range(5):
        await dispatcher.drain_once()
    for member in recipients:
        text = _texts(s.fake.messages_to(member.user_id))
        assert text.startswith(f"คุณ{member.name} รับซื้อ 1 แถม 1")
        assert text.count(f"คุณ{member.name} รับ") == 1
    for member in [*holdout, *members[-4:]]:
        assert s.fake.messages_to(member.user_id) == []

    claimers = recipients[:6]
    coupons = await shop.members_claim(app, s, claimers, campaign_id, lambda m: m.user_id)
    assert [c.member_id for c in coupons] == [m.member_id for m in claimers]

    clock.advance(timedelta(days=1))  # Wednesday, 14:30 shop time: inside the offer's window
    await shop.cashier_records_visits(s, CASHIER, coupons, recipients, holdout)

    stats = await shop.stats_a_week_later(app, clock, campaign_id)
    assert stats.recipients.sent == n
    assert stats.line_messages == n
    assert stats.recipients.claimed == len(claimers)
    assert stats.recipients.redeemed == 4
    assert stats.recipients.revenue == Decimal(150 * 5)
    assert stats.holdout.revenue == Decimal(100 * min(2, len(holdout)))
    assert stats.holdout.sent == 0
    assert str(n) in await s.say(OWNER, f"/stats {campaign_id}")
