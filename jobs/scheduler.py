"""The APScheduler 3 wiring: which periodic jobs run, and how often.

Jobs have stable ids and ``replace_existing=True`` so a restart never doubles them;
``coalesce=True`` runs a job once, not N times, after the process was asleep; the misfire
grace time lets a late job still run instead of being skipped silently. Per-member schedules
(birthdays, expiry) are rows in our own tables scanned by these jobs, not scheduler jobs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.bootstrap import App
from jobs import campaigns, housekeeping

MISFIRE_GRACE_SECONDS: Final = 300


@dataclass(frozen=True)
class PeriodicJob:
    id: str
    run: Callable[[App], Awaitable[Any]]
    every_minutes: float


#: later issues append the outbox dispatcher, birthdays, win-back, expiry...
JOBS: Final[tuple[PeriodicJob, ...]] = (
    PeriodicJob("housekeeping.purge_expired", housekeeping.purge_expired, every_minutes=15),
    PeriodicJob("campaigns.start_due", campaigns.run, every_minutes=1),
)


def build_scheduler(app: App, jobs: tuple[PeriodicJob, ...] = JOBS) -> AsyncIOScheduler:
    """A scheduler in the shop's time zone with every periodic job registered (not started).

    The caller starts it inside a running event loop and shuts it down on exit.
    """
    scheduler = AsyncIOScheduler(timezone=app.settings.tz)
    for job in jobs:
        scheduler.add_job(
            job.run,
            IntervalTrigger(minutes=job.every_minutes, timezone=app.settings.tz),
            args=[app],
            id=job.id,
            name=job.id,
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=MISFIRE_GRACE_SECONDS,
        )
    return scheduler
