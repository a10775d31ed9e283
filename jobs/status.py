"""What an operator asks of a running installation: the jobs, the queues, the leader.

``chatcrm jobs list|run`` and ``chatcrm status`` print these; ``/healthz`` shows the part that is
safe to publish. Everything is read from the database and the settings, so any process (a CLI
next to the server, a follower) answers the same as the leader.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from jobs.app import App
from jobs.periods import Period, PeriodicJob, run_once
from storage.leader_lock import LeaderHolder, current_leader, elects_leader
from storage.repositories.outbox_reads import ChannelDepth

#: the channels that need configuring (the console needs none), in the order shown
CHANNELS = ("line", "telegram")


@dataclass(frozen=True, slots=True)
class JobState:
    """A periodic job as ``jobs list`` shows it (times in UTC; the caller localises)."""

    id: str
    schedule: str
    #: the current period, and whether the scheduler would still run it
    period: Period
    due: bool
    last_period: str | None
    last_started: datetime | None
    last_finished: datetime | None
    next_run: datetime
    #: the current period is due and has not run: the scheduler's next tick runs it
    overdue: bool = False


@dataclass(frozen=True, slots=True)
class Leadership:
    """Who runs the jobs and the sender: SQLite has no election (the serving process does);
    on PostgreSQL, the holder of the lock, or nobody (no ``serve`` is running)."""

    elected: bool
    holder: LeaderHolder | None


@dataclass(frozen=True, slots=True)
class Status:
    #: channel name → connected (its tokens are configured)
    channels: dict[str, bool]
    outbox: list[ChannelDepth]
    leader: Leadership
    jobs: list[JobState]


def describe_schedule(period: Period, tz_now: datetime) -> str:
    """``daily at 10:00`` or ``every 15 min``, from a period of the job's schedule."""
    if period.length == timedelta(days=1):
        local = period.starts_at.astimezone(tz_now.tzinfo)
        return f"daily at {local:%H:%M}"
    minutes = int(period.length.total_seconds() // 60)
    return "every minute" if minutes == 1 else f"every {minutes} min"


async def job_states(app: App, jobs: list[PeriodicJob]) -> list[JobState]:
    """Each job's schedule, current period, last run and next run, as of ``app.clock``."""
    now, tz = app.clock.now(), app.settings.tz
    states = []
    async with app.uow.reading() as uow:  # beside the writer: /healthz with the token reads it
        for job in jobs:
            period = job.schedule(now, tz)
            due = job.due(now, tz) is not None
            last = await uow.jobs.latest(job.id)
            ran_now = last is not None and last.period_key == period.key
            # a due period that has not run starts at the scheduler's next tick
            overdue = due and not ran_now
            next_run = now if overdue else period.starts_at + period.length
            states.append(
                JobState(
                    id=job.id,
                    schedule=describe_schedule(period, now.astimezone(tz)),
                    period=period,
                    due=due,
                    last_period=last.period_key if last else None,
                    last_started=last.started_at if last else None,
                    last_finished=last.finished_at if last else None,
                    next_run=next_run,
                    overdue=overdue,
                )
            )
    return states


@dataclass(frozen=True, slots=True)
class ManualRun:
    """What ``jobs run`` did: ``ran`` here, or found the period already ``finished_at`` (or
    still running since ``started_at``) and did nothing."""

    job_id: str
    period_key: str
    ran: bool
    started_at: datetime | None = None
    finished_at: datetime | None = None


async def run_now(app: App, job: PeriodicJob) -> ManualRun:
    """Run ``job``'s current period now through the scheduler's own guard (:func:`run_once`):
    a period that already ran, or is running, is not run again."""
    period = job.schedule(app.clock.now(), app.settings.tz)
    ran = await run_once(app, job.id, period.key, lambda: job.run(app, period))
    if ran:
        return ManualRun(job.id, period.key, True)
    async with app.uow() as uow:
        row = await uow.jobs.get(job.id, period.key)
    started = row.started_at if row else None
    finished = row.finished_at if row else None
    return ManualRun(job.id, period.key, False, started, finished)


async def read_leader(app: App) -> Leadership:
    if not elects_leader(app.engine):
        return Leadership(False, None)
    return Leadership(True, await current_leader(app.engine))


async def read_status(app: App, jobs: list[PeriodicJob]) -> Status:
    """The whole picture; raises if the database does not answer (callers decide what to say)."""
    connected = app.settings.connected_channels
    async with app.uow.reading() as uow:
        outbox = await uow.outbox.depth(app.clock.now())
    return Status(
        channels={channel: channel in connected for channel in CHANNELS},
        outbox=outbox,
        leader=await read_leader(app),
        jobs=await job_states(app, jobs),
    )


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def status_dict(status: Status) -> dict[str, object]:
    """The status as JSON-able values (``/healthz`` with the status token)."""
    holder = status.leader.holder
    leader: dict[str, object] = {"elected": status.leader.elected}
    if holder is not None:
        leader.update(name=holder.name, address=holder.address, since=_iso(holder.since))
    return {
        "channels": status.channels,
        "outbox": {
            depth.channel: {"due": depth.due, "deferred": depth.deferred, "failed": depth.failed}
            for depth in status.outbox
        },
        "leader": leader,
        "jobs": [
            {
                "id": job.id,
                "schedule": job.schedule,
                "last_period": job.last_period,
                "last_started": _iso(job.last_started),
                "last_finished": _iso(job.last_finished),
                "next_run": _iso(job.next_run),
                "overdue": job.overdue,
            }
            for job in status.jobs
        ],
    }
