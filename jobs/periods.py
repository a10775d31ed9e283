"""Periods and the run-once guard: every periodic job runs once per period, whatever happens.

A job belongs to a :class:`PeriodicJob` with a *schedule* (``daily_at(10, 0)``,
``every_minutes(15)``) that maps "now" to the latest period that has started, as a
:class:`Period` with a stable key (``2026-03-03`` for a daily job, ``2026-03-03T10:15`` for a
15-minute slot). The key is the primary key of a ``job_runs`` row next to the job id.

:func:`run_once` is the guard: it inserts the row first, in its own committed transaction
(``INSERT … ON CONFLICT DO NOTHING``), so of two processes, two ticks or a restart racing for one
period exactly one runs it; then it runs the job and stores ``finished_at`` and the result.

The contract job functions rely on (and must keep):

* A finished period is never run again: a second call returns ``False`` and does nothing.
* A run that crashed (process killed, connection lost) leaves a row with no ``finished_at``.
  It is run AGAIN when its lease has expired (:data:`LEASE`, 10 minutes) or, sooner, when the
  caller says the row is older than its own leadership (``stale_before``: a new leader knows the
  old one is gone). So a job can be run twice for one period, possibly partly overlapping a dying
  run: **job functions must be idempotent per member** — every message they queue carries a
  stable outbox dedupe key (``cmp:<campaign>:<member>``, ``birthday:<year>:<member>``…) and every
  row they create is insert-once — so a re-run completes the missing members and sends nobody
  twice.
* A job that raises leaves its row unfinished; it is retried after the lease, not at once (a job
  that fails on every try should not hammer the platform every tick).
* Jobs read the time from ``app.clock`` and should act for ``period`` (its ``day`` and
  ``starts_at``), not for "today": a catch-up run may happen hours after the period started.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, Final
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from jobs.app import App

log = logging.getLogger(__name__)

#: how long an unfinished run is presumed alive before another run of its period may start
LEASE: Final = timedelta(minutes=10)


@dataclass(frozen=True)
class Period:
    """One period of a job: ``key`` is stored in ``job_runs``; ``starts_at`` is UTC; ``day`` is
    the shop-local date the period starts on (what a daily job acts for)."""

    key: str
    starts_at: datetime
    day: date
    length: timedelta


#: maps (now in UTC, the shop's zone) to the latest period that has started
Schedule = Callable[[datetime, ZoneInfo], Period]


def daily_at(hour: int, minute: int = 0) -> Schedule:
    """Once a shop-local day at HH:MM; before that time of day the current period is
    yesterday's. Keys are the local date, ``YYYY-MM-DD``."""
    at = time(hour, minute)

    def current(now: datetime, tz: ZoneInfo) -> Period:
        local = now.astimezone(tz)
        day = local.date() if local.time() >= at else local.date() - timedelta(days=1)
        # wall-clock start in the shop's zone (Thailand has no DST; zoneinfo handles the rest)
        starts_at = datetime.combine(day, at, tzinfo=tz)
        return Period(day.isoformat(), starts_at.astimezone(now.tzinfo), day, timedelta(days=1))

    return current


def every_minutes(minutes: int) -> Schedule:
    """Slots of ``minutes`` counted from local midnight (``minutes`` should divide 1440);
    keys are the slot's local start, ``YYYY-MM-DDTHH:MM``."""
    if not 0 < minutes <= 1440:
        raise ValueError("every_minutes needs 1..1440 minutes")

    def current(now: datetime, tz: ZoneInfo) -> Period:
        local = now.astimezone(tz)
        since_midnight = local.hour * 60 + local.minute
        slot = since_midnight - since_midnight % minutes
        start = datetime.combine(local.date(), time(slot // 60, slot % 60), tzinfo=tz)
        key = start.strftime("%Y-%m-%dT%H:%M")
        length = timedelta(minutes=minutes)
        return Period(key, start.astimezone(now.tzinfo), local.date(), length)

    return current


JobFunction = Callable[["App", Period], Awaitable[Any]]


@dataclass(frozen=True)
class PeriodicJob:
    """A job the scheduler runs once per period of ``schedule``.

    ``id`` is stable (it keys ``job_runs`` and the APScheduler job); ``run(app, period)`` does the
    work and returns something JSON-able for the ``result`` column (or None). ``catch_up`` is how
    long after the period's start a missed run is still made (default: the whole period, i.e. a
    daily job missed at 10:00 runs when the process is back, any time before the next 10:00);
    periods older than that, and all periods before the current one, are skipped.
    """

    id: str
    schedule: Schedule
    run: JobFunction
    catch_up: timedelta | None = None

    def due(self, now: datetime, tz: ZoneInfo) -> Period | None:
        """The period to run now, or None when the current one is past its catch-up window."""
        period = self.schedule(now, tz)
        window = self.catch_up if self.catch_up is not None else period.length
        return period if now - period.starts_at <= window else None


def each_period(fn: Callable[[App], Awaitable[Any]]) -> JobFunction:
    """Adapts a job that does not need its period (``fn(app)``) to the job signature."""

    async def run(app: App, period: Period) -> Any:
        return await fn(app)

    return run


async def run_once(
    app: App,
    job_id: str,
    period_key: str,
    fn: Callable[[], Awaitable[Any]],
    *,
    stale_before: datetime | None = None,
) -> bool:
    """Run ``fn`` unless this period already ran (or is running); True if it ran here.

    See the module docstring for the contract. ``fn``'s exceptions propagate (the row stays
    unfinished, so the period is retried after :data:`LEASE`).
    """
    now = app.clock.now()
    stale = now - LEASE
    if stale_before is not None and stale_before > stale:
        stale = stale_before
    async with app.uow() as uow:
        claimed = await uow.jobs.claim(job_id, period_key, now, stale_before=stale)
        await uow.commit()
    if not claimed:
        return False
    log.info("job %s: running period %s", job_id, period_key)
    result = await fn()
    async with app.uow() as uow:
        await uow.jobs.finish(job_id, period_key, app.clock.now(), _jsonable(result))
        await uow.commit()
    return True


def _jsonable(result: Any) -> dict[str, Any] | None:
    if result is None:
        return None
    if isinstance(result, dict) and all(isinstance(key, str) for key in result):
        return result
    return {"value": result if isinstance(result, int | float | str | bool) else repr(result)}
