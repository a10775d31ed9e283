"""The console's filtered page and its count, side by side: they agree, and a count of 0 stops
the page (which, walking the members one by one, would read them all to find none)."""

from __future__ import annotations

import asyncio
import itertools
import sqlite3
import threading
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import Boolean, event, literal_column
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.bootstrap import App
from storage import console_queries, sqlite_driver
from storage.console_queries import MemberPage, page_and_count
from storage.models import Member
from tests.unit.staff_support import make_member

#: steps of a walk that never ends unless stopped, far more than stopping it takes
ENDLESS = 30_000_000


async def test_the_page_and_the_count_agree(app: App) -> None:
    for n, points in enumerate((50, 300, 900)):
        await make_member(app, f"M{n}", f"08{n}1234567", points=points)
    found, size = await page_and_count(app.uow, None, Member.points_balance >= 100, 0, 50)
    assert size == 2
    assert sorted(member.name for member in found.members) == ["M1", "M2"]
    assert found.next_after is None


async def test_a_count_of_nothing_stops_the_page(app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    stopped = asyncio.Event()

    async def on_stop() -> None:
        stopped.set()

    _walk_until_stopped(monkeypatch, on_stop)
    await make_member(app, "M", "0811234567", points=10)
    nobody = Member.points_balance > 10**6
    # the guard only turns a page left walking into a failure instead of a hang
    found, size = await asyncio.wait_for(page_and_count(app.uow, None, nobody, 0, 50), 30)
    assert (found.members, found.next_after, size) == ([], None, 0)
    assert stopped.is_set()


async def test_a_page_stopped_by_a_count_of_nothing_is_interrupted_on_sqlite(
    app: App, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On SQLite the page's statement, already walking when the count says 0, is aborted and
    its connection handed back: a statement left running would hold the connection and a
    core until it ended. The page and the count must also run at the same time (a count
    that waited for the page's transaction to end could never stop it)."""
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's interrupt; PostgreSQL's cancel: test_cancelled_statement.py")
    walking = threading.Event()
    steps = itertools.count()

    def walked() -> int:
        walking.set()
        if next(steps) > ENDLESS:  # the guard: a page left walking fails instead of hanging
            raise RuntimeError("the page was not stopped")
        return 1

    def page_walking() -> int:
        walking.wait(timeout=20)
        return 1

    @event.listens_for(engine.sync_engine, "connect")
    def functions(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.create_function("walked", 0, walked)
        dbapi_connection.create_function("page_walking", 0, page_walking)

    await engine.dispose()  # connections opened from here on know both functions
    aborted: list[str] = []
    run = sqlite_driver._run

    def recording(*args: Any) -> Any:
        try:
            return run(*args)
        except sqlite3.OperationalError as error:
            aborted.append(str(error))
            raise

    monkeypatch.setattr(sqlite_driver, "_run", recording)
    await make_member(app, "M", "0811234567", points=10)
    # the page never ends unless stopped; the count answers 0 once the page is walking
    endless = literal_column(
        "(WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + walked() FROM c) "
        "SELECT count(*) FROM c) > 0",
        Boolean,
    )
    nobody = literal_column("page_walking() = 0", Boolean)
    # the guard only turns a page left walking into a failure instead of a hang
    found, size = await asyncio.wait_for(page_and_count(app.uow, None, nobody, 0, 50, endless), 60)
    assert (found.members, size) == ([], 0)
    assert walking.is_set()
    assert aborted == ["interrupted"]
    assert engine.sync_engine.pool.checkedout() == 0  # type: ignore[attr-defined]


@pytest.mark.parametrize("few", [0, 200])
async def test_a_page_read_in_two_stretches_is_the_page_read_at_once(
    app: App, monkeypatch: pytest.MonkeyPatch, few: int
) -> None:
    """Past the members walked beside the count, the page goes on once the count is known
    (walking, or by the count's plan when the count is small): same rows, same next page."""
    members = [
        await make_member(app, f"M{n}", f"08{n}1234567", points=points)
        for n, points in enumerate((0, 300, 0, 300, 300))
    ]
    ids = [member.id for member in members]
    monkeypatch.setattr(console_queries, "HEAD_START", ids[1])
    monkeypatch.setattr(console_queries, "FEW", few)
    rich = Member.points_balance >= 100
    pages = []
    for limit in (1, 2, 3):
        found, size = await page_and_count(app.uow, None, rich, 0, limit)
        assert size == 3
        pages.append(([m.id for m in found.members], found.next_after))
    assert pages == [
        ([ids[1]], ids[1]),
        ([ids[1], ids[3]], ids[3]),
        ([ids[1], ids[3], ids[4]], None),
    ]
    found, _ = await page_and_count(app.uow, None, rich, ids[3], 2)
    assert ([m.id for m in found.members], found.next_after) == ([ids[4]], None)


async def test_the_caller_s_cancellation_waits_for_the_page_to_stop_and_is_raised(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A count of 0 stops the page; if the caller is cancelled while the page cleans up (its
    rollback, its connection handed back), the clean-up ends undisturbed and the caller's
    cancellation is raised then, not swallowed with the page's."""
    stopping, release = asyncio.Event(), asyncio.Event()
    cleaned: list[bool] = []

    async def slow_to_stop() -> None:
        stopping.set()
        await release.wait()  # rolling back, handing its connection back
        cleaned.append(True)

    _walk_until_stopped(monkeypatch, slow_to_stop)
    nobody = Member.points_balance > 10**6
    asked = asyncio.ensure_future(page_and_count(app.uow, None, nobody, 0, 50))
    # the guards only turn a hang into a failure
    await asyncio.wait_for(stopping.wait(), 30)
    asked.cancel()  # while the page is still cleaning up
    release.set()
    await asyncio.wait({asked}, timeout=30)
    assert asked.cancelled()
    assert cleaned == [True]


def _walk_until_stopped(
    monkeypatch: pytest.MonkeyPatch, on_stop: Callable[[], Awaitable[None]]
) -> None:
    """The page walks until it is stopped (``on_stop`` runs as it stops, before it ends
    cancelled); the count answers only once the page is walking."""
    walking = asyncio.Event()
    count = console_queries.member_count

    async def endless_walk(*_: object, **__: object) -> MemberPage:
        walking.set()
        try:
            await asyncio.Event().wait()  # every member of a big shop, one by one
        except asyncio.CancelledError:
            await on_stop()
            raise
        raise AssertionError("unreachable")

    async def count_once_walking(*args: Any) -> int:
        await walking.wait()
        return await count(*args)

    monkeypatch.setattr(console_queries, "member_page", endless_walk)
    monkeypatch.setattr(console_queries, "member_count", count_once_walking)
