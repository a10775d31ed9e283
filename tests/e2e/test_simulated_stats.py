"""A simulated shop through the real web app and the platform fakes: every count ``/stats``
reports for the owner's campaign and for the win-back automation equals the simulator's ledger."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from bot.bootstrap import App
from bot.core.clock import FrozenClock
from bot.i18n import t
from shop.campaigns.stats import GroupStats, compute_stats
from simulator.ledger import Truth
from simulator.population import Effect
from simulator.run import OWNER, SimConfig, SimResult, setup_shop, simulate
from simulator.world import http_world
from storage.models import Campaign
from storage.raw_session import session_of

COUNTS = (
    "measured",
    "sent",
    "failed",
    "unreachable",
    "clicked",
    "claimed",
    "redeemed",
    "converters",
    "visits",
    "revenue",
    "blocked",
    "stopped",
)


def _reported(group: GroupStats) -> dict[str, object]:
    return {name: getattr(group, name) for name in COUNTS}


def _truth(truth: Truth) -> dict[str, object]:
    return {name: getattr(truth, name) for name in COUNTS}


async def _run(app: App, clock: FrozenClock) -> tuple[SimResult, str]:
    clock.set(clock.now().replace(hour=3, minute=0))  # 10:00 in Bangkok
    config = SimConfig(
        members=180, days=8, effect=Effect(visit_prob=0.3, extra_spend=Decimal(15)), seed=11
    )
    people = await setup_shop(app, config)
    async with http_world(app) as world:
        result = await simulate(app, world, people, config)
        stats_text = await world.say("telegram", OWNER, f"/stats {result.campaign_id}")
    return result, stats_text


async def test_every_stats_count_equals_the_simulated_ledger(app: App, clock: FrozenClock) -> None:
    result, stats_text = await _run(app, clock)
    now = clock.now()
    async with app.uow() as uow:
        stats = await compute_stats(uow, result.campaign_id, now)
        automations = (
            await session_of(uow).scalars(
                select(Campaign.id).where(Campaign.id != result.campaign_id)
            )
        ).all()
        automation_stats = [await compute_stats(uow, c, now) for c in automations]
    recipients, holdout = result.ledger.expected(result.campaign_id, now)
    assert holdout is not None
    assert _reported(stats.recipients) == _truth(recipients)
    assert _reported(stats.holdout) == _truth(holdout)
    # the simulated shop exercised every count, not a row of zeros
    assert min(recipients.sent, recipients.clicked, recipients.redeemed, recipients.visits) > 0
    assert min(recipients.failed, recipients.unreachable, holdout.visits) > 0
    delivery = t(
        "th",
        "stats.delivery",
        sent=recipients.sent,
        failed=recipients.failed,
        unreachable=recipients.unreachable,
        pending=0,
    )
    assert delivery in stats_text
    assert automation_stats, "the win-back automation sent nothing in the simulated days"
    for reported in automation_stats:
        expected, _ = result.ledger.expected(reported.campaign_id, now)
        assert _reported(reported.recipients) == _truth(expected)
    assert now - result.ledger.campaigns[result.campaign_id].started_at >= timedelta(days=8)
