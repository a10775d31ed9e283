"""``last_seen_at`` is written at most every few minutes, yet the account seen last sorts first."""

from __future__ import annotations

import contextlib
from datetime import timedelta

import pytest

from bot.bootstrap import App
from bot.core.clock import FrozenClock
from storage.models import Member
from storage.repositories.identities import LAST_SEEN_STEP
from tests.storage.trip_support import count_trips


async def _arrive(app: App, channel: str, user_id: str) -> None:
    async with app.uow() as uow:
        await uow.identities.arrive(channel, user_id, app.clock.now())
        await uow.commit()


async def _last_seen(app: App, channel: str, user_id: str) -> object:
    async with app.uow() as uow:
        identity = await uow.identities.get(channel, user_id)
        assert identity is not None
        return identity.last_seen_at


async def _linked_member(app: App) -> int:
    now = app.clock.now()
    async with app.uow() as uow:
        member = await uow.members.add(Member(name="Ann", locale="en", joined_at=now))
        for channel, user_id in (("telegram", "1"), ("line", "U1")):
            identity = await uow.identities.touch(channel, user_id, now)
            identity.member_id = member.id
        await uow.commit()
        return member.id


async def test_messages_in_quick_succession_write_last_seen_once(
    app: App, clock: FrozenClock
) -> None:
    await _arrive(app, "line", "U1")
    first = app.clock.now()
    clock.advance(LAST_SEEN_STEP - timedelta(seconds=1))

    await _arrive(app, "line", "U1")

    assert await _last_seen(app, "line", "U1") == first


async def test_last_seen_is_written_again_once_it_is_a_few_minutes_old(
    app: App, clock: FrozenClock
) -> None:
    await _arrive(app, "line", "U1")
    clock.advance(LAST_SEEN_STEP)

    await _arrive(app, "line", "U1")

    assert await _last_seen(app, "line", "U1") == app.clock.now()


async def test_the_account_written_from_last_is_preferred_even_within_minutes(
    app: App, clock: FrozenClock
) -> None:
    member_id = await _linked_member(app)
    await _arrive(app, "line", "U1")
    clock.advance(timedelta(seconds=30))
    await _arrive(app, "telegram", "1")
    clock.advance(timedelta(seconds=30))

    async with app.uow() as uow:
        preferred = await uow.identities.preferred(member_id)
    assert preferred is not None
    assert preferred.channel == "telegram"

    await _arrive(app, "line", "U1")  # back on LINE a minute later

    async with app.uow() as uow:
        preferred = await uow.identities.preferred(member_id)
    assert preferred is not None
    assert preferred.channel == "line"


async def test_an_arrival_a_savepoint_undid_is_written_again_in_the_same_unit_of_work(
    app: App, clock: FrozenClock
) -> None:
    # a batch of events shares one unit of work (handlers/group_commit.py): an event whose
    # savepoint rolled back is recorded again, with its author's arrival, in the same session
    await _arrive(app, "line", "U1")
    clock.advance(LAST_SEEN_STEP)
    async with app.uow() as uow:
        with contextlib.suppress(RuntimeError):
            async with uow.savepoint():
                await uow.identities.arrive("line", "U1", app.clock.now())
                raise RuntimeError("the event failed")
        arrival = await uow.identities.arrive("line", "U1", app.clock.now())
        assert arrival.identity.last_seen_at == app.clock.now()
        await uow.commit()

    assert await _last_seen(app, "line", "U1") == app.clock.now()


async def test_on_sqlite_the_write_travels_with_the_next_statement(
    app: App, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    if app.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's one-trip driver")
    await _arrive(app, "line", "U1")
    clock.advance(LAST_SEEN_STEP)
    trips = count_trips(monkeypatch)
    await _arrive(app, "line", "U1")
    monkeypatch.undo()

    # BEGIN with the arrival's read, the UPDATE with the commit: no trip of its own
    assert trips == ["begin_then", "begin_then"]
    assert await _last_seen(app, "line", "U1") == app.clock.now()


async def test_a_unit_of_work_that_does_not_commit_leaves_last_seen_as_it_was(
    app: App, clock: FrozenClock
) -> None:
    await _arrive(app, "line", "U1")
    first = app.clock.now()
    clock.advance(LAST_SEEN_STEP)

    async with app.uow() as uow:
        arrival = await uow.identities.arrive("line", "U1", app.clock.now())
        assert arrival.identity.last_seen_at == app.clock.now()  # shown as written

    assert await _last_seen(app, "line", "U1") == first
