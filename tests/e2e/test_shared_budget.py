"""Several ``serve`` processes on one PostgreSQL database share one Telegram budget (issue 15,
item 10): the leader's broadcast and a follower's replies together never draw a 429, and the
shared slots do not slow a broadcast down. Two app instances (two engines, two buses, two
limiters) in this test process stand for the two processes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select

from bot.bootstrap import App, bootstrap
from bot.config import Settings
from bot.core.clock import FrozenClock
from simulator.fakes.apart import serving_apart
from simulator.fakes.telegram_api import Call, FakeTelegramAPI, serving
from storage.models import OutboxMessage
from storage.raw_session import session_of
from tests.conftest import make_test_engine
from tests.e2e.broadcast_support import queue_promotions, statuses
from tests.e2e.reply_support import process, real_time, until
from tests.unit.staff_support import make_member

MEMBERS = [str(830_000 + n) for n in range(12)]
#: both processes' pace: the fake (and its server) run in this one event loop with both apps,
#: whose stalls bunch requests more than a network does, so a little more room than 28/s
PACE = 26.0


async def _broadcast_sent(app: App) -> int:
    async with app.uow() as uow:
        query = select(func.count()).where(
            OutboxMessage.dedupe_key.like("cmp:%"), OutboxMessage.status == "sent"
        )
        return int((await session_of(uow).execute(query)).scalar_one())


async def members_and_a_broadcast(app: App, clock: FrozenClock, *, first: int, rows: int) -> None:
    """The members who ask for ``/points``, and a broadcast of ``rows`` to other chats."""
    real_time(clock)
    for user in MEMBERS:
        await make_member(app, name=f"M{user}", phone=None, user_id=user)
    await queue_promotions(app, "telegram", [str(first + n) for n in range(rows)])


@pytest.fixture
async def follower(
    app: App, database_url: str, settings: Settings, clock: FrozenClock
) -> AsyncIterator[App]:
    if app.engine.dialect.name == "sqlite":
        pytest.skip("several serve processes share one PostgreSQL database; SQLite is one process")
    engine = make_test_engine(database_url)
    second = await bootstrap(settings=settings, clock=clock, engine=engine, migrate=False)
    try:
        yield second
    finally:
        await engine.dispose()


async def test_a_broadcast_in_one_process_and_replies_in_another_draw_no_429(
    app: App, follower: App, clock: FrozenClock
) -> None:
    await members_and_a_broadcast(app, clock, first=900_000, rows=300)
    fake = FakeTelegramAPI(rate=30)
    async with (
        serving_apart(fake) as (_, base),
        process(app, base, shared=True, rate=PACE),
        process(follower, base, dispatching=False, shared=True, rate=PACE) as other,
    ):

        async def broadcasting() -> bool:
            return len(fake.sent()) >= 30

        await until(broadcasting, 30, "the broadcast under way")
        for _ in range(3):  # every member asks three times, all at once, during the broadcast
            assert await asyncio.gather(*(other.say(int(u), "/points") for u in MEMBERS)) == [
                200
            ] * len(MEMBERS)

        async def done() -> bool:
            replies = sum(len(fake.sent(int(u))) for u in MEMBERS)
            return replies >= 3 * len(MEMBERS) and await statuses(app) == {"sent": 300}

        await until(done, 90, "the broadcast and every reply sent")
    print(f"\nbusiest second {fake.rates.busiest_second}/30, refused {fake.rates.refused}")
    assert fake.rates.refused == 0
    assert fake.rates.busiest_second <= 30
    assert all(len(fake.sent(int(u))) == 3 for u in MEMBERS)


async def test_the_shared_slots_keep_a_broadcast_at_the_allowed_rate(
    app: App, follower: App, clock: FrozenClock
) -> None:
    """Prints the rate reached (the README quotes it); asserts only what cannot be flaky."""
    real_time(clock)
    rows = 280
    await queue_promotions(app, "telegram", [str(910_000 + n) for n in range(rows)])
    fake = FakeTelegramAPI(rate=30)
    # the fake apart, as Telegram is: in the test's loop it would read requests when the apps
    # let it, and count together those that reached it a stall apart
    async with serving_apart(fake) as (_, base), process(app, base, shared=True, rate=PACE):
        started = time.monotonic()

        async def drained() -> bool:
            return await statuses(app) == {"sent": rows}

        await until(drained, 60, "the broadcast sent")
    sent = fake.sent()
    span = sent[-1].at - sent[0].at
    rate = PACE
    print(
        f"\nshared budget: {rows} messages in {span:.2f} s = {(rows - 1) / span:.2f}/s "
        f"of {rate}/s allowed ({(rows - 1) / span / rate:.3f}), whole run "
        f"{time.monotonic() - started:.2f} s"
    )
    assert fake.rates.refused == 0
    assert len(sent) == rows


async def test_a_stall_in_the_leaders_sends_and_a_followers_replies_draw_no_429(
    app: App, follower: App, clock: FrozenClock
) -> None:
    """Five of the leader's broadcast messages reach Telegram together (a stall on the way),
    and the follower's replies go out in the second after them: the leader gives up a slot for
    each of its late five, so that second stays within Telegram's 30 at the shipped pace of
    28."""
    await members_and_a_broadcast(app, clock, first=920_000, rows=200)
    fake = FakeTelegramAPI(rate=30)
    released = asyncio.Event()
    stalled: list[float] = []

    async def stall(call: Call) -> None:
        if call.chat_id is not None and 920_040 <= call.chat_id < 920_045:
            loop = asyncio.get_running_loop()
            stalled.append(stalled[0] if stalled else loop.time())
            await asyncio.sleep(stalled[0] + 0.2 - loop.time())
            released.set()

    fake.before_send = stall
    async with (
        serving(fake) as (_, base),
        process(app, base, shared=True, rate=28.0),
        process(follower, base, dispatching=False, shared=True, rate=28.0) as other,
    ):
        await asyncio.wait_for(released.wait(), 30)
        await asyncio.sleep(0.6)  # the replies go in the second after the five arrived
        answers = await asyncio.gather(*(other.say(int(u), "/points") for u in MEMBERS[:4]))
        assert answers == [200] * 4

        async def done() -> bool:
            replies = sum(len(fake.sent(int(u))) for u in MEMBERS[:4])
            return replies >= 4 and await _broadcast_sent(app) == 200

        try:
            await until(done, 60, "the broadcast and the replies sent")
        finally:
            assert len(stalled) == 5
    assert fake.rates.refused == 0
    assert fake.rates.busiest_second <= 30
