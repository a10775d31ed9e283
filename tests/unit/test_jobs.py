"""Housekeeping purges only what has expired; the scheduler registers it safely."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from sqlalchemy import func, insert, select

from bot.bootstrap import App
from bot.core.clock import FrozenClock
from jobs.housekeeping import SIGN_IN_KEPT, purge_expired
from jobs.scheduler import MISFIRE_GRACE_SECONDS, build_scheduler
from storage.models import (
    ConsoleLink,
    ConsoleSession,
    ConversationState,
    Media,
    Member,
    OneTimeCode,
    ProcessedEvent,
    Staff,
)
from storage.raw_session import session_of

#: what each kind of sign-in row is keyed by
_SIGN_IN_KEYS: dict[type[Any], str] = {
    ConsoleLink: "token_hash",
    ConsoleSession: "id_hash",
    OneTimeCode: "code_hash",
}


def _sign_in_rows(staff_id: int, member_id: int, name: str, expires_at: Any) -> list[object]:
    at = expires_at - timedelta(minutes=10)
    return [
        ConsoleLink(
            token_hash=name, staff_id=staff_id, locale="th", created_at=at, expires_at=expires_at
        ),
        ConsoleSession(
            id_hash=name,
            staff_id=staff_id,
            role="owner",
            branch_id=None,
            locale="th",
            csrf="x" * 32,
            created_at=at,
            last_seen_at=at,
            expires_at=expires_at,
        ),
        OneTimeCode(
            code_hash=name,
            purpose="link",
            member_id=member_id,
            created_at=at,
            expires_at=expires_at,
        ),
    ]


async def _seed(app: App, clock: FrozenClock) -> None:
    now = clock.now()
    async with app.uow() as uow:
        await uow.conversations.save("line", "old", "signup", "name", {}, now, now - timedelta(1))
        await uow.conversations.save("line", "live", "signup", "name", {}, now, now + timedelta(1))
        await uow.media.put("old.png", "image/png", b"x", now - timedelta(minutes=1))
        await uow.media.put("live.png", "image/png", b"x", now + timedelta(hours=1))
        await uow.events.first_time("line:old", now - timedelta(days=31))
        await uow.events.first_time("line:recent", now - timedelta(days=29))
        session = session_of(uow)
        staff = Staff(channel="telegram", user_id="o", name="Owner", role="owner", created_at=now)
        member = Member(member_code="M000001", name="Ploy", joined_at=now)
        session.add_all([staff, member])
        await uow.flush()
        gone = now - SIGN_IN_KEPT - timedelta(seconds=1)
        session.add_all(_sign_in_rows(staff.id, member.id, "old", gone))
        # lapsed an hour ago: kept a while yet (an own code sent again is still known)
        session.add_all(_sign_in_rows(staff.id, member.id, "lapsed", now - timedelta(hours=1)))
        session.add_all(_sign_in_rows(staff.id, member.id, "live", now + timedelta(minutes=5)))
        await uow.commit()


async def _keys(app: App, model: type[Any]) -> list[str]:
    async with app.uow() as uow:
        column = getattr(model, _SIGN_IN_KEYS[model])
        found = await session_of(uow).execute(select(column).order_by(column))
        return list(found.scalars().all())


async def test_purge_removes_expired_rows_and_keeps_live_ones(app: App, clock: FrozenClock) -> None:
    await _seed(app, clock)
    purged = await purge_expired(app)
    assert purged == {
        "conversations": 1,
        "media": 1,
        "events": 1,
        "console_links": 1,
        "console_sessions": 1,
        "one_time_codes": 1,
    }
    async with app.uow() as uow:
        session = session_of(uow)
        states = (await session.execute(select(ConversationState.user_id))).scalars().all()
        media = (await session.execute(select(Media.filename))).scalars().all()
        events = (await session.execute(select(ProcessedEvent.event_key))).scalars().all()
    assert (list(states), list(media), list(events)) == (["live"], ["live.png"], ["line:recent"])
    for model in _SIGN_IN_KEYS:
        assert await _keys(app, model) == ["lapsed", "live"]


async def test_purge_with_nothing_expired_removes_nothing(app: App, clock: FrozenClock) -> None:
    await _seed(app, clock)
    await purge_expired(app)
    kinds = ("conversations", "media", "events", "console_links", "console_sessions")
    assert await purge_expired(app) == dict.fromkeys((*kinds, "one_time_codes"), 0)


async def test_two_housekeepings_at_once_forget_a_backlog_once(
    app: App, clock: FrozenClock
) -> None:
    """Two processes purging the same backlog at once, in batches: every expired row goes,
    counted once between them, and the fresh one stays."""
    old = clock.now() - timedelta(days=40)
    async with app.uow() as uow:
        rows = [{"event_key": f"line:{i}", "processed_at": old} for i in range(1_000)]
        rows.append({"event_key": "line:fresh", "processed_at": clock.now()})
        await session_of(uow).execute(insert(ProcessedEvent), rows)
        await uow.commit()
    first, second = await asyncio.gather(purge_expired(app, 60), purge_expired(app, 60))
    assert first["events"] + second["events"] == 1_000
    async with app.uow() as uow:
        left = await session_of(uow).execute(select(func.count()).select_from(ProcessedEvent))
        assert left.scalar_one() == 1


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
