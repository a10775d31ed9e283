"""An English-speaking customer writing to a Thai shop on LINE, and the shop's Thai owner on
LINE reading it: signed webhooks into the real web app, the owner's alert through the outbox
and the dispatcher to the fake LINE API. The customer is answered in English; the owner is
alerted in Thai, the customer's name and words shown as written (markup, an emoji family, a
lone Thai mark), within every limit LINE checks on the request."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.bootstrap import App
from bot.channels.line import WEBHOOK_PATH, LineChannel
from bot.core.messages import Channel
from bot.i18n import t
from bot.web import build_web_app
from jobs.dispatcher import OutboxDispatcher
from simulator.fakes.line_api import FakeLineApi
from simulator.fakes.line_webhooks import line_settings, signed_webhook, text_event
from tests.adapters.platform_limits import line_message_problems
from tests.unit.staff_support import make_member, make_staff

CUSTOMER = "U0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e01"
OWNER = "U0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f02"
NAME = '<b>Ann & "Bo"</b> 👨\u200d👩\u200d👧\u200d👦 {name}'
MESSAGE = "Hi! Do you open at 10? <script>x</script> & ราคา ๑๒๐ บาท ใช่ไหม 🙏"


@dataclass
class World:
    app: App
    fake: FakeLineApi
    channel: LineChannel
    client: TestClient[Any, Any]

    async def say(self, user: str, text: str) -> list[dict[str, Any]]:
        token = self.fake.issue_reply_token(user)
        before = len(self.fake.calls)
        body, signature = signed_webhook([text_event(user, text, token, self.app.clock.now())])
        headers = {"Content-Type": "application/json", "X-Line-Signature": signature}
        answer = await self.client.post(WEBHOOK_PATH, data=body, headers=headers)
        assert answer.status == 200
        return self.messages_since(before, user)

    async def dispatch(self) -> list[dict[str, Any]]:
        before = len(self.fake.calls)
        await OutboxDispatcher(
            self.app.uow, self.app.clock, {Channel.LINE: self.channel}
        ).drain_once()
        return self.messages_since(before, OWNER)

    def messages_since(self, before: int, user: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for call in self.fake.calls[before:]:
            if call.endpoint in {"reply", "push"}:
                assert call.status == 200, call.json
                assert line_message_problems(call.messages) == [], call.messages
                if call.json.get("to") in (None, user):
                    out.extend(call.messages)
        return out


@pytest.fixture
async def world(app: App) -> AsyncIterator[World]:
    fake = FakeLineApi()
    fake.add_profile(CUSTOMER, NAME, "en")
    fake.add_profile(OWNER, "เจ้าของร้าน", "th")
    async with fake.running():
        channel = LineChannel(line_settings(app.settings, fake), app.bus, app.uow, app.clock)
        channel.retry_delays = (0.0, 0.0)
        server = TestServer(build_web_app(app, [channel]), host="127.0.0.1")
        async with TestClient(server) as client:
            yield World(app, fake, channel, client)


def _texts(messages: list[dict[str, Any]]) -> str:
    return "\n".join(m.get("text") or m.get("altText", "") for m in messages)


async def test_the_english_customer_is_answered_in_english_and_the_owner_alerted_in_thai(
    world: World,
) -> None:
    await make_staff(world.app, OWNER, "owner", channel=Channel.LINE)
    await make_member(
        world.app, NAME, "0812345678", user_id=CUSTOMER, channel=Channel.LINE, locale="en"
    )
    answered = _texts(await world.say(CUSTOMER, MESSAGE))
    assert answered, "the customer heard nothing"
    assert not any("\u0e00" <= ch <= "\u0e7f" for ch in answered), answered
    alerts = await world.dispatch()
    shown = _texts(alerts)
    assert NAME in shown, shown
    assert MESSAGE in shown, shown
    assert t("th", "inbox2.alert", name=NAME, text=MESSAGE) in shown
    labels = [
        item["action"]["label"] for m in alerts for item in m.get("quickReply", {}).get("items", [])
    ]
    assert t("th", "inbox2.reply_button") in labels, labels


async def test_the_english_customers_points_and_coupons_read_in_english_with_ce_dates(
    world: World,
) -> None:
    await make_member(
        world.app,
        NAME,
        "0812345678",
        user_id=CUSTOMER,
        channel=Channel.LINE,
        locale="en",
        points=120,
    )
    shown = _texts(await world.say(CUSTOMER, "/history"))
    assert "3 Mar 2026" in shown, shown
    assert "2569" not in shown
    assert "มี.ค." not in shown
