"""The periodic jobs, and the tick that runs each one once per period, catching up after downtime.

Every job is a :class:`~jobs.periods.PeriodicJob` in :data:`JOBS` (append yours there). The
scheduler does not trust its timer to remember anything: on start-up and on every tick,
:func:`tick_job` asks the job's schedule for the current period (from ``app.clock``) and runs it
through :func:`~jobs.periods.run_once` if its ``job_runs`` row is missing and the period has
started. So a daily 10:00 job missed during an outage from 09:58 to 10:03 runs once at 10:03 —
not zero times, not twice — and only the current period is ever caught up: older missed periods
(and the current one once past the job's ``catch_up`` window) are skipped on purpose, since a
three-day-old birthday greeting is worse than none.

APScheduler 3 is only the real-time trigger: one interval job per periodic job (stable ids,
``replace_existing``, ``coalesce``, ``max_instances=1``, first run at once) calling
:func:`tick_job` every :data:`TICK_SECONDS`. Tests call :func:`tick` directly with a
``FrozenClock`` instead of waiting. Per-member schedules (birthdays, expiry) are rows in our own
tables scanned by these jobs, not scheduler jobs. Only the leader process runs the scheduler
(see ``jobs.leader``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Final

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot import metrics
from jobs import campaigns, housekeeping
from jobs.app import App
from jobs.automations.birthday import run_birthday
from jobs.automations.expiry import HOUR as EXPIRY_HOUR
from jobs.automations.expiry import run_expiry
from jobs.automations.tiers import run_tier_review
from jobs.automations.winback import run_winback
from jobs.digest import run_digest
from jobs.feedback import run_feedback
from jobs.periods import Period, PeriodicJob, daily_at, each_period, every_minutes, run_once

__all__ = ["JOBS", "PeriodicJob", "build_scheduler", "running", "tick", "tick_job"]

log = logging.getLogger(__name__)

#: how often each job asks "is my current period due?" (a period starts at most this late)
TICK_SECONDS: Final = 20
MISFIRE_GRACE_SECONDS: Final = 300
#: finished ``job_runs`` rows older than this are deleted (only the current period matters)
JOB_RUN_MEMORY: Final = timedelta(days=60)


async def forget_old_runs(app: App, period: Period) -> dict[str, int]:
    """Delete finished ``job_runs`` rows older than :data:`JOB_RUN_MEMORY`."""
    async with app.uow() as uow:
        forgotten = await uow.jobs.forget_finished_before(app.clock.now() - JOB_RUN_MEMORY)
        await uow.commit()
    return {"forgotten": forgotten}


#: the automations append theirs, e.g. ``PeriodicJob("birthday", daily_at(10, 0), run_birthdays)``
JOBS: list[PeriodicJob] = [
    PeriodicJob(
        "housekeeping.purge_expired", every_minutes(15), each_period(housekeeping.purge_expired)
    ),
    PeriodicJob("campaigns.start_due", every_minutes(1), each_period(campaigns.run)),
    PeriodicJob("scheduler.forget_old_runs", daily_at(4, 0), forget_old_runs),
    # hourly: the greeting hour is an owner setting, checked inside the job
    PeriodicJob("automations.birthday", every_minutes(60), each_period(run_birthday)),
    PeriodicJob("automations.winback", daily_at(10, 0), each_period(run_winback)),
    PeriodicJob("automations.expiry", daily_at(EXPIRY_HOUR, 0), each_period(run_expiry)),
    PeriodicJob("automations.tiers", daily_at(9, 30), each_period(run_tier_review)),
    # every 15 minutes: asks about sales that came due (idempotent per sale, quiet-hour aware)
    PeriodicJob("automations.feedback", every_minutes(15), each_period(run_feedback)),
    # hourly: the digest hour is an owner setting, checked inside the job (once per day by key)
    PeriodicJob("automations.digest", every_minutes(60), each_period(run_digest)),
]


async def tick_job(app: App, job: PeriodicJob, leader_since: datetime | None = None) -> bool:
    """Run ``job``'s current period if it is due and has not run; True if it ran here.

    ``leader_since``: when this process became the leader; an unfinished run that started
    before it was the previous leader's and is re-run at once instead of after the lease.
    Errors are logged, not raised: one failing job must not stop the others or the timer.
    """
    now = app.clock.now()
    period = job.due(now, app.settings.tz)
    if period is None:
        return False
    try:
        ran = await run_once(
            app, job.id, period.key, lambda: job.run(app, period), stale_before=leader_since
        )
    except Exception:  # a job's failure is logged and retried after the lease, never fatal
        log.exception("job %s failed for period %s", job.id, period.key)
        metrics.count_job_run(job.id, "failed")
        return False
    if ran:
        metrics.count_job_run(job.id, "ran")
    return ran


async def tick(
    app: App, jobs: list[PeriodicJob] | None = None, leader_since: datetime | None = None
) -> list[str]:
    """One tick of every job, in order; returns the ids of the jobs that ran."""
    ran: list[str] = []
    for job in JOBS if jobs is None else jobs:
        if await tick_job(app, job, leader_since):
            ran.append(job.id)
    return ran


async def _tracked_tick(
    app: App, job: PeriodicJob, leader_since: datetime | None, tasks: set[asyncio.Task[object]]
) -> None:
    task = asyncio.current_task()
    if task is not None:
        tasks.add(task)
    try:
        await tick_job(app, job, leader_since)
    except asyncio.CancelledError:
        # cancelled on purpose by running() (shutdown, or leadership lost): the unfinished
        # period is re-run later, so this is no error for APScheduler to print a traceback of
        log.info("job %s stopped mid-run; its period will run again", job.id)
    finally:
        if task is not None:
            tasks.discard(task)


class _CancelledBeforeItBegan(logging.Filter):
    """APScheduler's executor reports a tick it cancelled before the tick's first step as
    "Error running job" with a ``CancelledError`` traceback: its shut-down cancels the ticks
    it has just created, which happens when a process stops right after it started
    (``echo /help | chatcrm chat``). That is no error: the period runs again next time, as
    for a tick stopped mid-run (:func:`_tracked_tick`). Said at INFO instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if not isinstance(error, asyncio.CancelledError):
            return True
        job = record.args[0] if isinstance(record.args, tuple) and record.args else "?"
        log.info("job %s stopped before it began; its period will run again", job)
        return False


# the executor's logger (APScheduler names it after the executor's alias, "default")
logging.getLogger("apscheduler.executors.default").addFilter(_CancelledBeforeItBegan())


def build_scheduler(
    app: App,
    jobs: list[PeriodicJob] | None = None,
    leader_since: datetime | None = None,
    tasks: set[asyncio.Task[object]] | None = None,
) -> AsyncIOScheduler:
    """A scheduler in the shop's time zone ticking every periodic job (not started).

    The caller starts it inside a running event loop and shuts it down on exit (or when the
    process stops being the leader). Each job's first tick is at start-up: that is the catch-up.
    ``tasks`` collects the running ticks, so :func:`running` can cancel them on the way out.
    """
    scheduler = AsyncIOScheduler(timezone=app.settings.tz)
    for job in JOBS if jobs is None else jobs:
        scheduler.add_job(
            _tracked_tick,
            IntervalTrigger(seconds=TICK_SECONDS, timezone=app.settings.tz),
            args=[app, job, leader_since, set() if tasks is None else tasks],
            id=job.id,
            name=job.id,
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=MISFIRE_GRACE_SECONDS,
            next_run_time=datetime.now(app.settings.tz),
        )
    return scheduler


@contextlib.asynccontextmanager
async def running(app: App, leader_since: datetime | None = None) -> AsyncIterator[None]:
    """The scheduler runs while the block runs; on exit, jobs still running are cancelled at once
    (a leader that lost its lock must stop; the unfinished period is re-run by the next one)."""
    tasks: set[asyncio.Task[object]] = set()
    scheduler = build_scheduler(app, leader_since=leader_since, tasks=tasks)
    scheduler.start()
    try:
        yield
    finally:
        scheduler.shutdown(wait=False)
        for task in list(tasks):
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
