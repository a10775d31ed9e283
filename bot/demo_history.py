"""Automation history for the demo shop: birthday and win-back run day by day over the last
weeks, so ``/campaigns`` and ``/stats`` show automation results on a demo's first run.

The real run functions of :mod:`jobs.automations` do the work against the demo database on a
:class:`~bot.clock.FrozenClock` moved one shop day at a time (at noon, after the birthday
hour). What they queue is history, not news: their outbox rows are marked sent at the time
they were due, and their campaigns ``sent`` (finished; claims of ``sent`` campaigns are still
honoured), so the demo's console session delivers none of it. Points expiry and the tier
review are left out: they change balances and tiers the synthetic history already settled.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Final

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.bootstrap import bootstrap
from bot.clock import FrozenClock
from bot.config import Settings
from jobs.automations.birthday import run_birthday
from jobs.automations.common import KIND_PREFIX
from jobs.automations.winback import run_winback
from storage.models import Campaign, OutboxMessage

HISTORY_DAYS: Final = 45


async def add_automation_history(
    engine: AsyncEngine, database_url: str, *, now: datetime, days: int = HISTORY_DAYS
) -> dict[str, int]:
    """Run birthday and win-back for each of the ``days`` shop days before ``now``; returns
    the summed counts (``recipients``, ``holdout``, exclusions)."""
    settings = Settings(CHATCRM_DATABASE_URL=database_url, _env_file=None)
    clock = FrozenClock(now)
    app = await bootstrap(settings=settings, clock=clock, engine=engine, migrate=False)
    today = now.astimezone(settings.tz).date()
    totals: dict[str, int] = {}
    for back in range(days, 0, -1):
        clock.set(datetime.combine(today - timedelta(days=back), time(12), tzinfo=settings.tz))
        for run in (run_birthday, run_winback):
            for key, value in (await run(app)).items():
                totals[key] = totals.get(key, 0) + value
    async with app.uow() as uow:
        await uow.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.status == "pending", OutboxMessage.dedupe_key.like("cmp:%"))
            .values(status="sent", sent_at=OutboxMessage.not_before, attempts=1)
        )
        await uow.session.execute(
            update(Campaign)
            .where(Campaign.kind.like(f"{KIND_PREFIX}%"))
            .values(status="sent", finished_at=clock.now())
        )
        await uow.commit()
    return totals
