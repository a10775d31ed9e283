"""A Telegram campaign through the real adapter to the rate-enforcing fake Bot API: never a
429 from our own pace, a 429 waited out, a blocked member skipped, nothing lost or doubled."""

from __future__ import annotations

import asyncio
import itertools
import os
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from sqlalchemy import select

from bot.bootstrap import App
from bot.channels.telegram import TelegramChannel
from bot.core.clock import SystemClock
from bot.core.messages import Channel
from jobs.dispatcher import OutboxDispatcher
from jobs.ratelimit import PlatformLimits
from simulator.fakes.apart import serving_apart
from simulator.fakes.telegram_api import TOKEN, Call, FakeTelegramAPI
from storage.models import ContactEvent
from storage.raw_session import session_of
from tests.e2e.broadcast_support import add_campaign, queue_promotions, statuses, until_drained

ON_POSTGRESQL = "postgresql" in os.environ.get("CHATCRM_TEST_DATABASE_URL", "")


@asynccontextmanager
async def sending(
    app: App, fake: FakeTelegramAPI, *, rate: float | None = None
) -> AsyncIterator[None]:
    """Run the dispatcher (real clock, platform limits) on the real Telegram adapter."""
    async with serving_apart(fake) as (_, base):
        changes: dict[str, object] = {"telegram_bot_token": TOKEN, "telegram_api_base": base}
        if rate is not None:
            changes["telegram_rate"] = rate
        settings = app.settings.model_copy(update=changes)
        channel = TelegramChannel(settings, app.bus, app.uow, app.clock)
        dispatcher = OutboxDispatcher(
            app.uow,
            SystemClock(),
            {Channel.TELEGRAM: channel},
            limiter=PlatformLimits.from_settings(settings, {Channel.TELEGRAM: channel.arrivals}),
            poll_seconds=0.2,
        )
        stop = asyncio.Event()
        task = asyncio.create_task(dispatcher.run(stop))
        try:
            yield
        finally:
            stop.set()
            await task
            await channel.close()


def delivered(fake: FakeTelegramAPI) -> Counter[int]:
    return Counter(call.chat_id for call in fake.sent() if call.chat_id is not None)


def chats(count: int, first: int = 1000) -> list[str]:
    return [str(first + n) for n in range(count)]


@pytest.mark.skipif(ON_POSTGRESQL, reason="70 s of wall time: run once, in the SQLite run")
async def test_a_2000_recipient_campaign_finishes_without_a_single_429(app: App) -> None:
    fake = FakeTelegramAPI(rate=30)
    users = chats(2000)
    await queue_promotions(app, "telegram", users)
    async with sending(app, fake):
        await until_drained(app, seconds=150)
    assert fake.rates.refused == 0
    assert delivered(fake) == Counter({int(user): 1 for user in users})
    assert fake.rates.busiest_second <= 30
    assert await statuses(app) == {"sent": 2000}


async def test_an_injected_429_is_waited_out_and_nothing_is_lost_or_doubled(app: App) -> None:
    fake = FakeTelegramAPI(rate=300)
    users = chats(120)
    fake.fail(429, "Too Many Requests: retry after 1", chat_id=1050, retry_after=1, times=1)
    await queue_promotions(app, "telegram", users)
    async with sending(app, fake, rate=250):
        await until_drained(app, seconds=30)
    refused = [c for c in fake.calls if c.status == 429]
    assert [c.chat_id for c in refused] == [1050]
    retried = [c for c in fake.sent(1050)]
    assert len(retried) == 1
    assert retried[0].at - refused[0].at >= 1.0
    assert delivered(fake) == Counter({int(user): 1 for user in users})
    assert await statuses(app) == {"sent": 120}


async def test_a_blocked_member_is_marked_unreachable_and_the_rest_are_sent(app: App) -> None:
    fake = FakeTelegramAPI(rate=300)
    users = chats(60)
    fake.block(1007)
    campaign_id = await add_campaign(app)
    await queue_promotions(app, "telegram", users, campaign_id=campaign_id, members=True)
    async with sending(app, fake, rate=250):
        await until_drained(app, seconds=30)
    assert delivered(fake) == Counter({int(user): 1 for user in users if user != "1007"})
    assert await statuses(app) == {"sent": 59, "unreachable": 1}
    async with app.uow() as uow:
        identity = await uow.identities.get("telegram", "1007")
        other = await uow.identities.get("telegram", "1008")
        events = await session_of(uow).execute(select(ContactEvent.kind))
    assert identity is not None
    assert identity.reachable is False
    assert other is not None
    assert other.reachable is True
    assert events.scalars().all() == ["blocked"]  # the tracking hook heard of it


async def test_messages_to_one_chat_are_spaced_a_second_apart(app: App) -> None:
    fake = FakeTelegramAPI(rate=300)
    await queue_promotions(app, "telegram", ["77", "77", "77", "78"], personalised=True)
    async with sending(app, fake, rate=250):
        await until_drained(app, seconds=30)
    times = [call.at for call in fake.sent(77)]
    assert len(times) == 3
    assert all(later - earlier >= 0.95 for earlier, later in itertools.pairwise(times))
    assert fake.rates.refused == 0


async def test_a_stall_that_bunches_messages_on_the_way_brings_no_429_a_second_later(
    app: App,
) -> None:
    """Five messages that left on time reach the platform together (a stall on the way): at
    the shipped pace of 28 a second, the second after them would hold those five and 28 more,
    over the 30 Telegram allows. The adapter times its messages, and each late one costs the
    bot-wide bucket a slot."""
    fake = FakeTelegramAPI(rate=30)
    users = chats(90)
    stalled: list[float] = []

    async def stall(call: Call) -> None:
        if call.chat_id is not None and 1030 <= call.chat_id < 1035:
            # released together, 0.2 s after the first
            stalled.append(stalled[0] if stalled else asyncio.get_running_loop().time())
            await asyncio.sleep(stalled[0] + 0.2 - asyncio.get_running_loop().time())

    fake.before_send = stall
    await queue_promotions(app, "telegram", users)
    async with sending(app, fake):
        await until_drained(app, seconds=60)
    assert len(stalled) == 5
    assert fake.rates.refused == 0
    assert delivered(fake) == Counter({int(user): 1 for user in users})
    assert await statuses(app) == {"sent": 90}
