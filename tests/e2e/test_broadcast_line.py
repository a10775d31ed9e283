"""A LINE campaign through the real adapter to the fake Messaging API: identical promotions
go out as multicasts of ≤ 500 with retry keys, a retried request keeps its key, and the
monthly limit pauses the campaign and tells the owner once instead of retrying hot."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.bootstrap import App
from bot.channels.line import LineChannel
from bot.core.clock import Clock, FrozenClock, SystemClock
from bot.core.messages import Channel
from jobs.dispatcher import OutboxDispatcher
from jobs.ratelimit import PlatformLimits
from shop.campaigns.launch import resume_campaign
from simulator.fakes.line_api import FakeLineApi
from simulator.fakes.line_webhooks import line_settings
from tests.e2e.broadcast_support import add_campaign, queue_promotions, statuses
from tests.storage.outbox_support import add_staff
from tests.unit.staff_support import staff_chat


@asynccontextmanager
async def line_dispatcher(
    app: App, fake: FakeLineApi, clock: Clock | None = None
) -> AsyncIterator[OutboxDispatcher]:
    async with fake.running():
        settings = line_settings(app.settings, fake)
        channel = LineChannel(settings, app.bus, app.uow, app.clock)
        channel.retry_delays = (0.0, 0.0)
        try:
            yield OutboxDispatcher(
                app.uow,
                clock or SystemClock(),
                {Channel.LINE: channel},
                limiter=PlatformLimits.from_settings(settings),
            )
        finally:
            await channel.close()


def users(count: int) -> list[str]:
    return [f"U{n:032x}" for n in range(count)]


def recipients(fake: FakeLineApi) -> Counter[str]:
    return Counter(user for call in fake.delivered() for user in call.json["to"])


async def test_1200_identical_promotions_go_out_as_three_multicasts(app: App) -> None:
    fake = FakeLineApi()
    audience = users(1200)
    await queue_promotions(app, "line", audience)
    async with line_dispatcher(app, fake) as dispatcher:
        first, second = await dispatcher.drain_once(), await dispatcher.drain_once()
    # a multicasting channel claims a full request for every worker: one pass takes them all
    assert (first.sent, second.sent) == (1200, 0)
    calls = fake.calls_to("multicast")
    assert sorted(len(call.json["to"]) for call in calls) == [200, 500, 500]
    keys = [call.headers["X-Line-Retry-Key"] for call in calls]
    assert len({str(uuid.UUID(key)) for key in keys}) == 3
    assert fake.calls_to("push") == []
    assert recipients(fake) == Counter(audience)
    assert fake.quota_used == 1200


async def test_personalised_promotions_are_pushed_one_by_one(app: App) -> None:
    fake = FakeLineApi()
    await queue_promotions(app, "line", users(3), personalised=True)
    async with line_dispatcher(app, fake) as dispatcher:
        await dispatcher.drain_once()
    assert [len(fake.messages_to(user)) for user in users(3)] == [1, 1, 1]
    assert (len(fake.calls_to("push")), fake.calls_to("multicast")) == (3, [])


async def test_a_multicast_retried_after_a_server_error_keeps_its_retry_key(app: App) -> None:
    fake = FakeLineApi()
    fake.fail_server_error("multicast", times=1)
    await queue_promotions(app, "line", users(600))
    async with line_dispatcher(app, fake) as dispatcher:
        assert (await dispatcher.drain_once()).sent == 600
    calls = fake.calls_to("multicast")
    failed = [call for call in calls if call.status == 500]
    assert len(failed) == 1
    assert len(calls) == 3
    key = failed[0].headers["X-Line-Retry-Key"]
    again = [c for c in calls if c.headers["X-Line-Retry-Key"] == key and c is not failed[0]]
    assert [(c.status, c.json["to"]) for c in again] == [(200, failed[0].json["to"])]
    assert recipients(fake) == Counter(users(600))


async def test_the_monthly_limit_pauses_the_campaign_and_tells_the_owner_once(
    app: App,
) -> None:
    fake = FakeLineApi(quota_limit=600)
    campaign_id = await add_campaign(app)
    await add_staff(app, "telegram", "9001", "owner")
    await queue_promotions(app, "line", users(1000), campaign_id=campaign_id, members=True)
    async with line_dispatcher(app, fake) as dispatcher:
        result = await dispatcher.drain_once()
        requests = len(fake.calls)
        assert await dispatcher.drain_once() == type(result)()  # resting: no hot retry loop
        assert len(fake.calls) == requests
    assert (result.sent, result.quota_exhausted, fake.quota_used) == (500, 500, 500)
    async with app.uow() as uow:
        campaign = await uow.campaigns.get(campaign_id)
        notice = await uow.outbox.by_key(f"dispatch:quota:{campaign_id}|s1")
        told = await uow.outbox.pending_count("telegram")
    assert campaign is not None
    assert campaign.status == "paused"
    assert notice is not None
    assert (notice.user_id, told) == ("9001", 1)
    assert "/campaign resume" in notice.payload["replies"][0]["text"]
    assert (await statuses(app))["pending"] == 500 + 1


async def test_a_resumed_campaign_sends_the_rest(app: App) -> None:
    fake = FakeLineApi(quota_limit=3)
    campaign_id = await add_campaign(app)
    await queue_promotions(app, "line", users(5), campaign_id=campaign_id, members=True)
    async with line_dispatcher(app, fake) as dispatcher:
        first = await dispatcher.drain_once()
        fake.quota_limit = None  # the owner upgraded the plan
        async with app.uow() as uow:
            back = await resume_campaign(uow, campaign_id, SystemClock().now())
            await uow.commit()
        fresh = OutboxDispatcher(app.uow, SystemClock(), dispatcher._channels)
        second = await fresh.drain_once()
    assert (first.quota_exhausted, back, second.sent) == (5, 5, 5)
    assert recipients(fake) == Counter(users(5))
    async with app.uow() as uow:
        campaign = await uow.campaigns.get(campaign_id)
    assert campaign is not None
    assert campaign.status == "sent"


async def test_campaign_resume_from_the_chat_lifts_the_dispatchers_quota_rest(
    app: App, clock: FrozenClock
) -> None:
    clock.set(datetime.now(UTC) + timedelta(minutes=1))  # the queued rows are due
    fake = FakeLineApi(quota_limit=3)
    campaign_id = await add_campaign(app)
    owner = await staff_chat(app, "9001", "owner", language_code="en")
    await queue_promotions(app, "line", users(5), campaign_id=campaign_id, members=True)
    async with line_dispatcher(app, fake, app.clock) as dispatcher:
        first = await dispatcher.drain_once()
        fake.quota_limit = None  # the owner upgraded the plan
        await owner.say(f"/campaign resume {campaign_id}")
        assert f"#{campaign_id}" in owner.text()
        # the same dispatcher (the leader, which the resume may not have reached in-process)
        second = await dispatcher.drain_once()
    assert (first.quota_exhausted, second.sent) == (5, 5)
    assert recipients(fake) == Counter(users(5))
    async with app.uow() as uow:
        campaign = await uow.campaigns.get(campaign_id)
    assert campaign is not None
    assert campaign.status == "sent"


async def test_multicasts_in_flight_together_one_refused_429_is_sent_once_more(
    app: App, clock: FrozenClock
) -> None:
    clock.set(datetime.now(UTC) + timedelta(minutes=1))  # the queued rows are due
    fake = FakeLineApi()
    fake.fail_rate_limit("multicast", times=1)
    await queue_promotions(app, "line", users(2500))
    async with line_dispatcher(app, fake, app.clock) as dispatcher:
        channel = dispatcher._channels[Channel.LINE]
        together = _InFlight(channel.multicast, expected=4)  # type: ignore[attr-defined]
        channel.multicast = together  # type: ignore[attr-defined]
        first = await dispatcher.drain_once()
        clock.advance(timedelta(seconds=2))  # LINE's 429 asks for a second's rest
        second = await dispatcher.drain_once()
    assert together.most == 4  # a request for each of the fan-out's workers out at once
    # the fifth request waited for a worker, found LINE resting after the 429 and was handed
    # back: the next pass sends it with the refused one
    assert (first.sent, first.rate_limited, second.sent) == (1500, 500, 1000)
    calls = fake.calls_to("multicast")
    refused = [call for call in calls if call.status == 429]
    assert (len(calls), len(refused)) == (6, 1)
    again = [
        c for c in calls if c.headers["X-Line-Retry-Key"] == refused[0].headers["X-Line-Retry-Key"]
    ]
    assert [c.status for c in again] == [429, 200]
    assert recipients(fake) == Counter(users(2500))  # nobody got two copies
    assert (await statuses(app)) == {"sent": 2500}


class _InFlight:
    """Wraps an adapter's ``multicast``: the first ``expected`` calls wait until all of them
    are in flight at once (a bounded wait: failing beats hanging), and the most seen at once
    is kept."""

    def __init__(self, multicast: Callable[..., Awaitable[None]], expected: int) -> None:
        self._multicast = multicast
        self._expected = expected
        self._calls = 0
        self._all_there = asyncio.Event()
        self.now = self.most = 0

    async def __call__(self, *args: Any, **kwargs: Any) -> None:
        self._calls += 1
        self.now += 1
        self.most = max(self.most, self.now)
        try:
            if self.now >= self._expected:
                self._all_there.set()
            if self._calls <= self._expected:
                await asyncio.wait_for(self._all_there.wait(), 30.0)
            await self._multicast(*args, **kwargs)
        finally:
            self.now -= 1
