"""The 95% interval /stats reports is calibrated on simulated campaigns with a known effect.

150 campaigns (fixed seed) of 200 to 1,000 members with 5–50% hold-out and heavy-tailed spend
(:mod:`simulator.calibration`), written to the database and read back through
``compute_stats``; about 110 of them report an interval (the rest are "too few"), enough that
a well-calibrated 95% interval falls below 90% coverage by chance only about once in a hundred
seeds. Runs on SQLite and PostgreSQL: the campaigns share one database and are written in
bulk, so a run takes seconds. ``python -m bench.calibration`` runs 1,000 campaigns.
"""

from __future__ import annotations

import pytest

from bot.bootstrap import App
from shop.campaigns.uplift import Verdict
from simulator.calibration import Scenario, Trial, coverage, run_calibration, scenarios

SEED = 20_240_101
AUDIENCES = (200, 500, 1000)


@pytest.fixture
async def trials(app: App) -> list[Trial]:
    return await run_calibration(app.uow, scenarios(150, SEED, AUDIENCES), SEED)


@pytest.mark.e2e
async def test_the_reported_interval_covers_the_true_effect_at_least_90_percent(
    trials: list[Trial],
) -> None:
    result = coverage(trials)
    assert result.with_interval >= 100
    assert result.coverage >= 0.90


@pytest.mark.e2e
async def test_a_zero_effect_reads_as_no_detectable_effect_at_least_90_percent(
    trials: list[Trial],
) -> None:
    result = coverage(trials)
    assert result.zero_effect >= 40
    assert result.zero_quiet_rate >= 0.90


async def test_a_small_hold_out_is_reported_as_too_few(app: App) -> None:
    # 60 members with 10% held out: about six in the hold-out, far too few to compare
    small = Scenario(audience=60, holdout_pct=10, buy_rate=0.3, conversion_lift=0.05)
    (trial,) = await run_calibration(app.uow, [small], SEED)
    assert trial.stats.holdout.measured < 30
    assert trial.estimate.verdict is Verdict.TOO_FEW
    assert trial.stats.too_few
