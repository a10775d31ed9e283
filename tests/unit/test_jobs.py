"""Housekeeping purges only what has expired; the scheduler registers it safely."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.bootstrap import App
from bot.core.clock import FrozenClock
from jobs.housekeeping import purge_expired
from jobs.scheduler import MISFIRE_GRACE_SECONDS, build_scheduler
from storage.models import ConversationState, Media, ProcessedEvent
from storage.raw_session import session_of


async def _seed(app: App, clock: FrozenClock) -> None:
    now = clock.now()
    async with app.uow() as uow:
        await uow.conversations.save("line", "old", "signup", "name", {}, now, now - timedelta(1))
        await uow.conversations.save("line", "live", "signup", "name", {}, now, now + timedelta(1))
        await uow.media.put("old.png", "image/png", b"x", now - timedelta(minutes=1))
        await uow.media.put("live.png", "image/png", b"x", now + timedelta(hours=1))
        await uow.events.first_time("line:old", now - timedelta(days=31))
        await uow.events.first_time("line:recent", now - timedelta(days=29))
        await uow.commit()


async def test_purge_removes_expired_rows_and_keeps_live_ones(app: App, clock: FrozenClock) -> None:
    await _seed(app, clock)
    purged = await purge_expired(app)
    assert purged == {"conversations": 1, "media": 1, "events": 1}
    async with app.uow() as uow:
        session = session_of(uow)
        states = (await session.execute(select(ConversationState.user_id))).scalars().all()
        media = (await session.execute(select(Media.filename))).scalars().all()
        events = (await session.execute(select(ProcessedEvent.event_key))).scalars().all()
    assert (list(states), list(media), list(events)) == (["live"], ["live.png"], ["line:recent"])


async def test_purge_with_nothing_expired_removes_nothing(app: App, clock: FrozenClock) -> None:
    await _seed(app, clock)
    await purge_expired(app)
    assert await purge_expired(app) == {"conversations": 0, "media": 0, "events": 0}


async def test_scheduler_registers_housekeeping_once_in_shop_time(app: App) -> None:
    scheduler = build_scheduler(app)
    jobs = scheduler.get_jobs()
    ids = [job.id for job in jobs]
    assert ids[:2] == ["housekeeping.purge_expired", "campaigns.start_due"]
    assert len(ids) == len(set(ids))
    job = jobs[0]
    assert job.coalesce is True
    assert job.misfire_grace_time == MISFIRE_GRACE_SECONDS
    assert str(scheduler.timezone) == "Asia/Bangkok"


async def test_scheduler_starts_and_stops_inside_the_event_loop(app: App) -> None:
    scheduler = build_scheduler(app)
    scheduler.start()
    try:
        assert scheduler.running
        assert scheduler.get_job("housekeeping.purge_expired") is not None
    finally:
        scheduler.shutdown(wait=False)
