"""``chatcrm jobs list`` and ``chatcrm jobs run NAME``: the scheduler's jobs, by hand.

``jobs run`` goes through the scheduler's own run-once guard, so it runs the job's current
period only if no process ran it yet: a second ``jobs run`` in the same period (or one after the
scheduler's own run) does nothing and says so. Messages it queues are sent by the serving
process's dispatcher, as the scheduler's would be.
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot.core.errors import CommandError

if TYPE_CHECKING:
    from bot.config import Settings
    from jobs.status import JobState


class UnknownJob(CommandError):
    """``jobs run`` was given a name no job has; the message lists the valid ones."""


def add_parser(commands: Any, command: Any) -> None:
    """Add ``jobs list`` and ``jobs run NAME`` (``command`` is cli's helper)."""
    jobs = commands.add_parser("jobs", help="the scheduled jobs: list them, run one now")
    actions = jobs.add_subparsers(dest="jobs_command", metavar="ACTION", required=True)
    command("list", run_list, "each job: its period, last run and next run", at=actions)
    run = command("run", run_job, "run a job's current period now (once per period)", at=actions)
    run.add_argument("name", metavar="NAME", help="the job, as `chatcrm jobs list` names it")


def local(moment: datetime | None, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M") if moment is not None else "-"


def _last_run(state: JobState, tz: ZoneInfo) -> str:
    if state.last_period is None:
        return "never"
    if state.last_finished is None:
        return f"{state.last_period}, unfinished (started {local(state.last_started, tz)})"
    return f"{state.last_period}, finished {local(state.last_finished, tz)}"


def list_lines(states: list[JobState], tz: ZoneInfo) -> list[str]:
    rows = [("JOB", "PERIOD", "LAST RUN", "NEXT RUN")]
    for state in states:
        upcoming = "due now" if state.overdue else local(state.next_run, tz)
        rows.append((state.id, state.schedule, _last_run(state, tz), upcoming))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    return [
        "  ".join([*(cell.ljust(width) for cell, width in zip(row, widths, strict=False)), row[3]])
        for row in rows
    ]


async def run_list(_: argparse.Namespace, settings: Settings) -> int:
    from bot.bootstrap import bootstrap
    from jobs.scheduler import JOBS
    from jobs.status import job_states
    from storage.sqlite_file import require_shop_file

    require_shop_file(settings.database_url)  # not a new, empty shop at a wrong path
    app = await bootstrap(settings)
    try:
        states = await job_states(app, JOBS)
    finally:
        await app.close()
    for line in list_lines(states, settings.tz):
        print(line)
    print(f"(times in {settings.timezone}; jobs run in the leading `chatcrm serve` process)")
    return 0


async def run_job(args: argparse.Namespace, settings: Settings) -> int:
    from bot.bootstrap import bootstrap
    from jobs.scheduler import JOBS
    from jobs.status import run_now
    from storage.sqlite_file import require_shop_file

    job = next((job for job in JOBS if job.id == args.name), None)
    if job is None:
        names = ", ".join(job.id for job in JOBS)
        raise UnknownJob(f"no job named {args.name!r}; the jobs are: {names}")
    require_shop_file(settings.database_url)  # a job run in a new, empty shop does nothing
    app = await bootstrap(settings)
    try:
        done = await run_now(app, job)
        result = None
        if done.ran:
            async with app.uow() as uow:
                row = await uow.jobs.get(done.job_id, done.period_key)
                result = row.result if row is not None else None
    finally:
        await app.close()
    tz = settings.tz
    if done.ran:
        shown = f": {json.dumps(result, ensure_ascii=False)}" if result else ""
        print(f"{done.job_id}: ran period {done.period_key}{shown}")
    elif done.finished_at is not None:
        print(
            f"{done.job_id}: period {done.period_key} already ran (finished "
            f"{local(done.finished_at, tz)}); nothing done, it runs once per period"
        )
    else:
        print(
            f"{done.job_id}: period {done.period_key} is running elsewhere (started "
            f"{local(done.started_at, tz)}); nothing done"
        )
    return 0
