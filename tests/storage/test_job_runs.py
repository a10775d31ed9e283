"""Run-once per period: a period runs once across ticks, races and restarts, and catches up."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.bootstrap import App
from bot.core.clock import FrozenClock
from jobs.periods import LEASE, Period, PeriodicJob, daily_at, run_once
from jobs.scheduler import tick


class Recorder:
    """A job that remembers the periods it ran for (and can be told to fail)."""

    def __init__(self) -> None:
        self.periods: list[str] = []
        self.fail = False

    async def __call__(self, app: App, period: Period) -> dict[str, Any]:
        await asyncio.sleep(0)
        if self.fail:
            raise RuntimeError("boom")
        self.periods.append(period.key)
        return {"queued": len(self.periods)}


def _daily(recorder: Recorder, **kwargs: Any) -> list[PeriodicJob]:
    return [PeriodicJob("birthday", daily_at(10, 0), recorder, **kwargs)]


async def test_a_period_runs_once_and_stores_its_result(app: App, clock: FrozenClock) -> None:
    recorder = Recorder()
    assert await tick(app, _daily(recorder)) == ["birthday"]
    assert await tick(app, _daily(recorder)) == []
    async with app.uow() as uow:
        run = await uow.jobs.get("birthday", "2026-03-03")
    assert recorder.periods == ["2026-03-03"]
    assert run is not None
    assert run.finished_at == clock.now()
    assert run.result == {"queued": 1}


async def test_two_racing_callers_run_a_period_once(app: App) -> None:
    calls: list[int] = []

    async def job() -> None:
        calls.append(1)

    ran = await asyncio.gather(*(run_once(app, "race", "p1", job) for _ in range(5)))
    assert sorted(ran) == [False, False, False, False, True]
    assert calls == [1]


async def test_a_job_missed_during_an_outage_runs_once_when_the_process_is_back(
    app: App, clock: FrozenClock
) -> None:
    recorder = Recorder()
    clock.set(datetime(2026, 3, 4, 2, 58, tzinfo=UTC))  # 09:58 Bangkok: yesterday's ran
    async with app.uow() as uow:
        await uow.jobs.claim("birthday", "2026-03-03", clock.now(), stale_before=clock.now())
        await uow.jobs.finish("birthday", "2026-03-03", clock.now(), None)
        await uow.commit()
    assert await tick(app, _daily(recorder)) == []
    clock.set(datetime(2026, 3, 4, 3, 3, tzinfo=UTC))  # down 09:58-10:03, back at 10:03
    await tick(app, _daily(recorder))
    await tick(app, _daily(recorder))
    assert recorder.periods == ["2026-03-04"]


async def test_a_period_older_than_the_catch_up_window_is_skipped(
    app: App, clock: FrozenClock
) -> None:
    recorder = Recorder()
    clock.set(datetime(2026, 3, 4, 9, 0, tzinfo=UTC))  # 16:00, six hours after 10:00
    assert await tick(app, _daily(recorder, catch_up=timedelta(hours=2))) == []
    assert recorder.periods == []


async def test_a_crashed_run_is_rerun_only_after_its_lease(app: App, clock: FrozenClock) -> None:
    recorder = Recorder()
    recorder.fail = True
    await tick(app, _daily(recorder))  # logged, row left unfinished
    recorder.fail = False
    clock.advance(LEASE - timedelta(seconds=1))
    assert await tick(app, _daily(recorder)) == []
    clock.advance(timedelta(seconds=2))
    assert await tick(app, _daily(recorder)) == ["birthday"]
    assert recorder.periods == ["2026-03-03"]


async def test_a_new_leader_reruns_the_old_leaders_unfinished_run_at_once(
    app: App, clock: FrozenClock
) -> None:
    async with app.uow() as uow:  # the old leader claimed the period, then died
        await uow.jobs.claim("birthday", "2026-03-03", clock.now(), stale_before=clock.now())
        await uow.commit()
    clock.advance(timedelta(seconds=6))
    recorder = Recorder()
    assert await tick(app, _daily(recorder)) == []
    assert await tick(app, _daily(recorder), leader_since=clock.now()) == ["birthday"]


@pytest.mark.e2e
async def test_a_year_of_daily_ticks_runs_each_day_once(app: App, clock: FrozenClock) -> None:
    recorder = Recorder()
    clock.set(datetime(2026, 1, 1, 3, 0, tzinfo=UTC))  # 10:00 Bangkok on 1 January
    for _ in range(365 * 2):  # two ticks a day, 12 hours apart
        await tick(app, _daily(recorder))
        clock.advance(timedelta(hours=12))
    assert len(recorder.periods) == len(set(recorder.periods)) == 365


@pytest.mark.parametrize("result", [None, 7, [1, 2]])
async def test_any_result_is_stored_as_json(app: App, result: object) -> None:
    async def job() -> object:
        return result

    assert await run_once(app, "json", "p", job)
    async with app.uow() as uow:
        run = await uow.jobs.get("json", "p")
    assert run is not None
    assert run.finished_at is not None
