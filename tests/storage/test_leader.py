"""Leader election: one leader at a time, replaced when it stops or loses its connection."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import datetime

import pytest
from sqlalchemy import text

from bot.bootstrap import App
from jobs.leader import Duties, lead_when_elected
from storage.leader_lock import LOCK_CLASS

RETRY = 0.2


class Seat:
    """Duties that record when they start and stop, under a name."""

    def __init__(self, log: list[str], name: str) -> None:
        self.log, self.name = log, name
        self.leading = asyncio.Event()

    def duties(self) -> Duties:
        @contextlib.asynccontextmanager
        async def run(since: datetime) -> AsyncIterator[None]:
            self.log.append(f"{self.name} leads")
            self.leading.set()
            try:
                yield
            finally:
                self.leading.clear()
                self.log.append(f"{self.name} stops")

        return run


@pytest.fixture
def fast(app: App) -> App:
    app.settings = app.settings.model_copy(update={"leader_retry_seconds": RETRY})
    return app


def _postgres_only(app: App) -> None:
    if app.engine.dialect.name != "postgresql":
        pytest.skip("several processes are a PostgreSQL set-up; SQLite is always the leader")


async def test_a_lone_process_leads_and_stops_its_duties_when_told(fast: App) -> None:
    log: list[str] = []
    seat, stop = Seat(log, "a"), asyncio.Event()
    task = asyncio.create_task(lead_when_elected(fast, stop, seat.duties()))
    await asyncio.wait_for(seat.leading.wait(), 5)
    stop.set()
    await asyncio.wait_for(task, 5)
    assert log == ["a leads", "a stops"]


async def test_only_one_of_two_processes_leads_and_the_other_takes_over(fast: App) -> None:
    _postgres_only(fast)
    log: list[str] = []
    a, b = Seat(log, "a"), Seat(log, "b")
    stop_a, stop_b = asyncio.Event(), asyncio.Event()
    task_a = asyncio.create_task(lead_when_elected(fast, stop_a, a.duties()))
    await asyncio.wait_for(a.leading.wait(), 5)
    task_b = asyncio.create_task(lead_when_elected(fast, stop_b, b.duties()))
    await asyncio.sleep(RETRY * 3)
    assert log == ["a leads"]
    stop_a.set()
    await asyncio.wait_for(task_a, 5)
    await asyncio.wait_for(b.leading.wait(), RETRY * 10)
    stop_b.set()
    await asyncio.wait_for(task_b, 5)
    assert log == ["a leads", "a stops", "b leads", "b stops"]


async def test_a_leader_whose_connection_drops_stops_and_is_replaced(fast: App) -> None:
    _postgres_only(fast)
    log: list[str] = []
    a, b = Seat(log, "a"), Seat(log, "b")
    stop_a, stop_b = asyncio.Event(), asyncio.Event()
    task_a = asyncio.create_task(lead_when_elected(fast, stop_a, a.duties()))
    await asyncio.wait_for(a.leading.wait(), 5)
    task_b = asyncio.create_task(lead_when_elected(fast, stop_b, b.duties()))
    async with fast.engine.connect() as admin:  # what a network cut or a DBA would do
        await admin.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_locks "
                "WHERE locktype = 'advisory' AND classid = :cls AND granted"
            ),
            {"cls": LOCK_CLASS},
        )
    # a notices within one retry and stops; the lock is taken again within about one more
    # (by b, or by a itself if it retries first: here, unlike a killed process, a lives on)
    for _ in range(80):
        if "a stops" in log and sum(entry.endswith("leads") for entry in log) == 2:
            break
        await asyncio.sleep(RETRY / 4)
    assert log[0] == "a leads"
    assert log.count("a stops") == 1
    assert sum(entry.endswith("leads") for entry in log) == 2
    stop_a.set()
    stop_b.set()
    await asyncio.wait_for(asyncio.gather(task_a, task_b), 5)
