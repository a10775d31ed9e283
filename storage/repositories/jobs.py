"""Job runs: which periodic job ran for which period, and whether it finished."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import JobRun
from storage.upsert import insert_once


class JobRuns:
    """The ``job_runs`` table; the caller commits (see ``jobs.periods.run_once``)."""

    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def claim(
        self, job_id: str, period_key: str, now: datetime, *, stale_before: datetime
    ) -> bool:
        """Take the run of ``job_id`` for ``period_key``; True if this caller should run it.

        A missing row is inserted once (a racing caller gets False). An unfinished row that
        started before ``stale_before`` belongs to a dead run and is taken over with a
        compare-and-set on ``started_at``, so of two callers taking over only one wins.
        """
        values = {"job_id": job_id, "period_key": period_key, "started_at": now}
        if await insert_once(self._s, JobRun, values, ("job_id", "period_key")):
            return True
        row = (
            await self._s.execute(
                select(JobRun.started_at, JobRun.finished_at).where(
                    JobRun.job_id == job_id, JobRun.period_key == period_key
                )
            )
        ).first()
        if row is None or row.finished_at is not None or row.started_at >= stale_before:
            return False
        taken = await self._s.execute(
            update(JobRun)
            .where(
                JobRun.job_id == job_id,
                JobRun.period_key == period_key,
                JobRun.finished_at.is_(None),
                JobRun.started_at == row.started_at,
            )
            .values(started_at=now)
            .execution_options(synchronize_session=False)
        )
        return int(taken.rowcount or 0) == 1  # type: ignore[attr-defined]

    async def finish(
        self, job_id: str, period_key: str, now: datetime, result: dict[str, Any] | None
    ) -> None:
        await self._s.execute(
            update(JobRun)
            .where(JobRun.job_id == job_id, JobRun.period_key == period_key)
            .values(finished_at=now, result=result)
            .execution_options(synchronize_session=False)
        )

    async def get(self, job_id: str, period_key: str) -> JobRun | None:
        return await self._s.get(JobRun, (job_id, period_key))

    async def latest(self, job_id: str) -> JobRun | None:
        """The run of ``job_id``'s most recent period (a job's keys sort as its periods do),
        finished or not; None if it never ran."""
        query = (
            select(JobRun)
            .where(JobRun.job_id == job_id)
            .order_by(JobRun.period_key.desc())
            .limit(1)
        )
        return (await self._s.scalars(query)).first()

    async def forget_finished_before(self, moment: datetime) -> int:
        """Delete finished runs older than ``moment``: only the current period's row matters."""
        result = await self._s.execute(
            delete(JobRun).where(JobRun.finished_at.is_not(None), JobRun.finished_at < moment)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
