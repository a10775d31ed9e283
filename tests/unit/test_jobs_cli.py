"""``chatcrm jobs list`` and ``chatcrm jobs run NAME``: by hand, once per period like the timer."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.bootstrap import App
from bot.cli import main
from jobs.periods import PeriodicJob
from jobs.scheduler import JOBS, tick_job
from jobs.status import job_states, run_now
from tests.unit.test_cli import clean_environment  # noqa: F401  (autouse: empty folder, own db)


@pytest.fixture(autouse=True)
def shop_file(clean_environment: Path) -> Path:  # noqa: F811  (the fixture above, used)
    """A shop to run jobs in: `jobs` refuses a path with no file, as `status` and `export` do."""
    assert main(["db", "upgrade"]) == 0
    return clean_environment / "shop.db"


def _job(job_id: str) -> PeriodicJob:
    return next(job for job in JOBS if job.id == job_id)


def test_jobs_run_twice_in_one_period_runs_once_and_says_so(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["jobs", "run", "automations.winback"]) == 0
    first = capsys.readouterr().out
    assert main(["jobs", "run", "automations.winback"]) == 0
    second = capsys.readouterr().out
    assert "automations.winback: ran period" in first
    assert "already ran" in second
    assert "nothing done" in second


def test_an_unknown_job_is_exit_2_naming_the_valid_ones(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["jobs", "run", "automations.nope"]) == 2
    err = capsys.readouterr().err
    assert "no job named 'automations.nope'" in err
    for job in JOBS:
        assert job.id in err
    assert "Traceback" not in err


def test_jobs_list_names_every_job_with_its_period_and_runs(
    capsys: pytest.CaptureFixture[str],
) -> None:
    main(["jobs", "run", "automations.winback"])
    capsys.readouterr()
    assert main(["jobs", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["JOB", "PERIOD", "LAST", "RUN", "NEXT", "RUN"]
    rows = {line.split()[0]: line for line in lines[1:] if line and not line.startswith("(")}
    assert set(rows) == {job.id for job in JOBS}
    assert "daily at 10:00" in rows["automations.winback"]
    assert "finished" in rows["automations.winback"]
    assert "every 15 min" in rows["housekeeping.purge_expired"]
    assert "never" in rows["housekeeping.purge_expired"]
    assert "due now" in rows["housekeeping.purge_expired"]


async def test_a_manual_run_and_the_scheduler_share_one_run_per_period(app: App) -> None:
    job = _job("automations.expiry")
    assert (await run_now(app, job)).ran
    assert not await tick_job(app, job)
    again = await run_now(app, job)
    assert not again.ran
    assert again.finished_at is not None


async def test_a_manual_run_after_the_scheduler_does_nothing(app: App) -> None:
    job = _job("automations.tiers")
    assert await tick_job(app, job)
    done = await run_now(app, job)
    assert (done.ran, done.period_key) == (False, "2026-03-03")


async def test_job_states_give_the_current_period_the_last_and_the_next_run(app: App) -> None:
    # the clock: Tuesday 3 March 2026, 14:30 in Bangkok
    winback = _job("automations.winback")
    before = {s.id: s for s in await job_states(app, [winback])}["automations.winback"]
    assert (before.schedule, before.period.key, before.overdue) == (
        "daily at 10:00",
        "2026-03-03",
        True,
    )
    assert before.last_period is None

    await run_now(app, winback)
    (after,) = await job_states(app, [winback])
    assert after.last_period == "2026-03-03"
    assert after.last_finished is not None
    assert not after.overdue
    # the next period starts at 10:00 Bangkok the next day, 03:00 UTC
    assert after.next_run == datetime(2026, 3, 4, 3, 0, tzinfo=UTC)


async def test_an_every_minutes_job_is_described_and_scheduled_by_its_slot(app: App) -> None:
    purge = _job("housekeeping.purge_expired")
    await run_now(app, purge)
    (state,) = await job_states(app, [purge])
    assert state.schedule == "every 15 min"
    assert state.period.key == "2026-03-03T14:30"
    assert state.next_run - state.period.starts_at == timedelta(minutes=15)


@pytest.mark.parametrize("argv", [["jobs", "list"], ["jobs", "run", "automations.winback"]])
def test_jobs_on_a_path_with_no_shop_file_exit_2_and_create_nothing(
    argv: list[str], shop_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    moved = shop_file.with_name("moved.db")
    shop_file.rename(moved)  # the operator's path is wrong, or the file went
    capsys.readouterr()
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert f"no shop at {shop_file}" in captured.err
    assert "Traceback" not in captured.err
    assert captured.out == ""
    assert not shop_file.exists()


def test_jobs_run_uses_the_configured_database(tmp_path: Path) -> None:
    assert main(["jobs", "run", "scheduler.forget_old_runs"]) == 0
    with sqlite3.connect(tmp_path / "shop.db") as connection:
        rows = connection.execute("SELECT job_id FROM job_runs").fetchall()
    assert rows == [("scheduler.forget_old_runs",)]
