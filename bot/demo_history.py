"""Automation history for the demo shop: birthday and win-back run day by day over the last
weeks, so ``/campaigns`` and ``/stats`` show automation results on a demo's first run.

The real run functions of :mod:`jobs.automations` do the work against the demo database on a
:class:`~bot.core.clock.FrozenClock` moved one shop day at a time (at noon, after the birthday
hour). What they queue is history, not news: their outbox rows are marked sent at the time
they were due, and their campaigns ``sent`` (finished; claims of ``sent`` campaigns are still
honoured), so the demo's console session delivers none of it. Points expiry and the tier
review are left out: they change balances and tiers the synthetic history already settled.

The last :data:`SIMULATED_DAYS` are not made up at all: :func:`add_simulated_days` runs the
shop simulator (:mod:`simulator.run`, in-process driver) — the owner sends a campaign with a
hold-out, the dispatcher delivers it, simulated members press, redeem, block and visit the
counter where the demo cashier rings up their sales, and win-back runs each day — so what
``/stats`` shows on a demo's first run is what the product itself measured.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Final

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.bootstrap import bootstrap
from bot.config import Settings
from bot.core.clock import FrozenClock
from jobs.automations.birthday import run_birthday
from jobs.automations.common import KIND_PREFIX
from jobs.automations.winback import run_winback
from simulator.inprocess import InProcessWorld
from simulator.population import Effect, load_population
from simulator.run import SimConfig, simulate
from storage.models import Campaign, OutboxMessage
from storage.raw_session import session_of
from storage.synthetic.loyalty import console_user
from storage.synthetic.names import BRANCHES

#: the demo shop's name in each language (a Bangkok tea-shop chain of five branches)
SHOP_NAME: Final = {"th": "บ้านชาเย็น", "en": "Baan Cha Yen"}
HISTORY_DAYS: Final = 45
#: simulated days at the end of the demo's history (a campaign's whole attribution window)
SIMULATED_DAYS: Final = 8
#: what the demo campaign truly does: a few extra visits, a little more spent per visit
DEMO_EFFECT: Final = Effect(visit_prob=0.15, extra_spend=Decimal(10))
DEMO_SEGMENT: Final = "home_branch in (asoke) and visits >= 3"
#: members outside the audience visit at their own history's rate too (the shop's other sales)
OTHERS_VISIT_RATE: Final = 1.0
#: the saved segment's name says what it holds
DEMO_SEGMENT_NAME: Final = "asoke-regulars"


def history_settings(database_url: str) -> Settings:
    """The settings the demo's history is made with (the shop's name, in Thai)."""
    return Settings(
        CHATCRM_DATABASE_URL=database_url, CHATCRM_SHOP_NAME=SHOP_NAME["th"], _env_file=None
    )


def simulation_start(now: datetime, settings: Settings) -> datetime:
    """10:00 shop time, :data:`SIMULATED_DAYS` days before ``now``'s shop day."""
    today = now.astimezone(settings.tz).date()
    day = today - timedelta(days=SIMULATED_DAYS)
    return datetime.combine(day, time(10), tzinfo=settings.tz)


async def add_simulated_days(
    engine: AsyncEngine, database_url: str, *, start: datetime, seed: int
) -> int:
    """Simulate the shop from ``start`` for :data:`SIMULATED_DAYS` days with the console
    owner and each branch's console cashier (every member comes to their home branch, so
    every branch has sales); returns the id of the owner's campaign."""
    settings = history_settings(database_url)
    clock = FrozenClock(start)
    app = await bootstrap(settings=settings, clock=clock, engine=engine, migrate=False)
    config = SimConfig(
        days=SIMULATED_DAYS,
        holdout_pct=30,
        effect=DEMO_EFFECT,
        seed=seed,
        staff_channel="console",
        owner=console_user("owner"),
        cashier=console_user("cashier", "asoke"),
        cashiers={code: console_user("cashier", code) for code, _, _ in BRANCHES},
        campaign_name="Free Thai milk tea",
        # the Asoke regulars: a campaign-sized audience that keeps the demo quick to build
        segment_rule=DEMO_SEGMENT,
        segment_name=DEMO_SEGMENT_NAME,
        audience_only=True,
        others_visit_rate=OTHERS_VISIT_RATE,
    )
    # every member keeps the habits of their generated history: regular customers stay
    # regular, so what they spent before the campaign predicts its window (what the
    # uplift's regression adjustment and the preview's detectable uplift rest on)
    people = await load_population(engine, seed, habits_until=start)
    result = await simulate(app, InProcessWorld(app), people, config)
    return result.campaign_id


async def add_automation_history(
    engine: AsyncEngine, database_url: str, *, now: datetime, days: int = HISTORY_DAYS
) -> dict[str, int]:
    """Run birthday and win-back for each of the ``days`` shop days before ``now``; returns
    the summed counts (``recipients``, ``holdout``, exclusions)."""
    settings = history_settings(database_url)
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
        await session_of(uow).execute(
            update(OutboxMessage)
            .where(OutboxMessage.status == "pending", OutboxMessage.dedupe_key.like("cmp:%"))
            .values(status="sent", sent_at=OutboxMessage.not_before, attempts=1)
        )
        await session_of(uow).execute(
            update(Campaign)
            .where(Campaign.kind.like(f"{KIND_PREFIX}%"))
            .values(status="sent", finished_at=clock.now())
        )
        await uow.commit()
    return totals
