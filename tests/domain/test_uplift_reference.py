"""The uplift estimators pinned to statsmodels on fixed data, to 1e-6.

The revenue estimate is Lin's interacted regression ``y ~ T + (x − x̄) + T·(x − x̄)``: its
coefficient on ``T`` is the estimate, its ordinary (pooled) standard error the pooled error,
and the separate error is the two groups' own regressions' intercept errors at the pooled
mean, added in quadrature. The conversion interval is statsmodels' ``method="newcomb"``.
"""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
import statsmodels.api as sm
from statsmodels.stats.proportion import confint_proportions_2indep

from shop.campaigns.uplift import (
    Moments,
    adjusted_difference,
    adjusted_errors,
    proportion_difference,
    residual_variance,
    t_quantile_975,
)


def _data(seed: int, treated: int, control: int) -> tuple[list[float], list[float], list[int]]:
    """Heavy-tailed spend with a habit carried over from the earlier window."""
    rng = random.Random(seed)
    xs, ys, groups = [], [], []
    for k in range(treated + control):
        habit = rng.lognormvariate(4, 1) if rng.random() < 0.4 else 0.0
        xs.append(round(habit * rng.random() * 2, 2))
        lift = 1.2 if k < treated else 1.0
        ys.append(round(habit * rng.random() * 2 * lift, 2))
        groups.append(1 if k < treated else 0)
    return xs, ys, groups


def _moments(xs: list[float], ys: list[float]) -> Moments:
    return Moments(
        len(xs),
        sum(ys),
        sum(y * y for y in ys),
        sum(xs),
        sum(x * x for x in xs),
        sum(x * y for x, y in zip(xs, ys, strict=True)),
    )


@pytest.mark.parametrize(("seed", "treated", "control"), [(1, 900, 100), (2, 300, 60), (3, 95, 45)])
def test_the_revenue_estimate_and_its_errors_match_statsmodels(
    seed: int, treated: int, control: int
) -> None:
    xs, ys, groups = _data(seed, treated, control)
    x, y, t = np.array(xs), np.array(ys), np.array(groups, dtype=float)
    centred = x - x.mean()
    design = np.column_stack([np.ones_like(x), t, centred, t * centred])
    ols = sm.OLS(y, design).fit()
    separate = 0.0
    for arm in (1.0, 0.0):
        mask = t == arm
        fit = sm.OLS(y[mask], np.column_stack([np.ones(mask.sum()), centred[mask]])).fit()
        separate += fit.bse[0] ** 2

    mine_t = _moments(xs[:treated], ys[:treated])
    mine_c = _moments(xs[treated:], ys[treated:])
    errors = adjusted_errors(mine_t, mine_c)

    assert errors.difference == pytest.approx(ols.params[1], abs=1e-6)
    assert errors.pooled == pytest.approx(ols.bse[1], abs=1e-6)
    assert errors.separate == pytest.approx(math.sqrt(separate), abs=1e-6)
    # the earlier-window error: the recipients' own term, and for the hold-out the variance
    # of x over everyone times (1 − r²) of the within-group regression of y on x
    own_t = sm.OLS(y[t == 1], np.column_stack([np.ones(treated), centred[t == 1]])).fit()
    within = sm.OLS(
        np.concatenate([y[t == a] - y[t == a].mean() for a in (1.0, 0.0)]),
        np.concatenate([x[t == a] - x[t == a].mean() for a in (1.0, 0.0)]),
    ).fit()
    held = t == 0
    leverage = 1 / control + (x[held].mean() - x.mean()) ** 2 / np.sum(
        (x[held] - x[held].mean()) ** 2
    )
    # through the origin on centred data, statsmodels' (uncentred) R² is the within r²
    earlier = own_t.bse[0] ** 2 + np.var(x, ddof=1) * (1 - within.rsquared) * leverage
    assert errors.earlier == pytest.approx(math.sqrt(earlier), abs=1e-6)
    estimate = adjusted_difference(mine_t, mine_c, converters=treated + control)
    half = t_quantile_975(treated + control - 4) * errors.larger
    assert errors.larger == max(errors.separate, errors.pooled, errors.earlier)
    assert estimate.low == pytest.approx(ols.params[1] - half, abs=1e-6)
    assert estimate.high == pytest.approx(ols.params[1] + half, abs=1e-6)


def test_the_residual_variance_matches_statsmodels() -> None:
    xs, ys, _ = _data(4, 500, 0)
    fit = sm.OLS(np.array(ys), sm.add_constant(np.array(xs))).fit()
    assert residual_variance(_moments(xs, ys)) == pytest.approx(fit.scale, rel=1e-9)


@pytest.mark.parametrize(
    ("hits_t", "n_t", "hits_c", "n_c"),
    [(20, 100, 10, 100), (130, 950, 3, 50), (45, 900, 9, 100), (0, 40, 5, 40), (30, 30, 29, 31)],
)
def test_the_conversion_interval_is_statsmodels_newcombe(
    hits_t: int, n_t: int, hits_c: int, n_c: int
) -> None:
    low, high = confint_proportions_2indep(hits_t, n_t, hits_c, n_c, method="newcomb")
    estimate = proportion_difference(hits_t, n_t, hits_c, n_c)
    assert estimate.low == pytest.approx(low, abs=1e-6)
    assert estimate.high == pytest.approx(high, abs=1e-6)


def test_with_a_longer_history_the_earlier_window_error_takes_the_same_length_window() -> None:
    # x: a member's spending over a long history; w: the window of y's length just before y
    xs, ys, groups = _data(5, 600, 80)
    rng = random.Random(6)
    ws = [round(x * rng.random() / 2, 2) for x in xs]
    x, y, w, t = np.array(xs), np.array(ys), np.array(ws), np.array(groups, dtype=float)
    treated = int(t.sum())

    def moments(mask: np.ndarray) -> Moments:
        base = _moments(list(x[mask]), list(y[mask]))
        return Moments(
            base.n, base.y, base.yy, base.x, base.xx, base.xy,
            float(w[mask].sum()), float((w[mask] ** 2).sum()),
        )  # fmt: skip

    errors = adjusted_errors(moments(t == 1), moments(t == 0))
    centred = x - x.mean()
    own_t = sm.OLS(y[t == 1], np.column_stack([np.ones(treated), centred[t == 1]])).fit()
    within = sm.OLS(
        np.concatenate([y[t == a] - y[t == a].mean() for a in (1.0, 0.0)]),
        np.concatenate([x[t == a] - x[t == a].mean() for a in (1.0, 0.0)]),
    ).fit()
    held = t == 0
    leverage = 1 / held.sum() + (x[held].mean() - x.mean()) ** 2 / np.sum(
        (x[held] - x[held].mean()) ** 2
    )
    earlier = own_t.bse[0] ** 2 + np.var(w, ddof=1) * (1 - within.rsquared) * leverage
    assert errors.earlier == pytest.approx(math.sqrt(earlier), abs=1e-6)
    # the preview's variance: the larger of the residual one and w's share left unexplained
    fit = sm.OLS(y, sm.add_constant(x)).fit()
    past = moments(np.ones_like(t, dtype=bool))
    r2 = fit.rsquared
    expected = max(fit.scale, np.var(w, ddof=1) * (1 - r2))
    assert residual_variance(past) == pytest.approx(expected, rel=1e-9)
