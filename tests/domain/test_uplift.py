"""The uplift statistics against hand computations."""

from __future__ import annotations

import math

import pytest

from shop.campaigns.uplift import (
    GroupSample,
    Moments,
    Verdict,
    adjusted_difference,
    mean_difference,
    proportion_difference,
    t_quantile_975,
)


def _sample(values: list[float]) -> GroupSample:
    return GroupSample(len(values), sum(values), sum(v * v for v in values))


# 10 of 40 recipients spent 150 baht, 10 of 40 hold-out members spent 100 baht:
# means 37.5 and 25; variances 168750/39 and 75000/39; Welch SE = sqrt(156.25) = 12.5
RECIPIENTS = _sample([150.0] * 10 + [0.0] * 30)
HOLDOUT = _sample([100.0] * 10 + [0.0] * 30)


@pytest.mark.parametrize(
    ("df", "exact"), [(5, 2.570582), (10, 2.228139), (30, 2.042272), (68, 1.995469)]
)
def test_t_quantile_matches_the_tables(df: float, exact: float) -> None:
    assert t_quantile_975(df) == pytest.approx(exact, abs=2e-3 if df < 10 else 2e-4)


def test_infinite_degrees_of_freedom_give_the_normal_quantile() -> None:
    assert t_quantile_975(math.inf) == pytest.approx(1.959964)


def test_sample_variance_from_sums() -> None:
    assert RECIPIENTS.mean == 37.5
    assert RECIPIENTS.variance == pytest.approx(168750 / 39)


def test_pooled_interval_matches_the_hand_computation() -> None:
    # pooled variance (168750 + 75000) / 78 = 3125; SE = sqrt(3125 × (1/40 + 1/40)) = 12.5
    estimate = mean_difference(RECIPIENTS, HOLDOUT, converters=20)
    half = t_quantile_975(78) * 12.5  # ≈ 1.9908 × 12.5 ≈ 24.89
    assert estimate.difference == pytest.approx(12.5)
    assert estimate.low == pytest.approx(12.5 - half, abs=1e-3)
    assert estimate.high == pytest.approx(12.5 + half, abs=1e-3)
    assert estimate.verdict is Verdict.NO_EFFECT  # the interval contains 0


def test_a_clear_difference_is_up() -> None:
    big = _sample([300.0] * 30 + [0.0] * 10)
    assert mean_difference(big, HOLDOUT, converters=40).verdict is Verdict.UP
    assert mean_difference(HOLDOUT, big, converters=40).verdict is Verdict.DOWN


def test_small_groups_are_too_few_to_tell() -> None:
    small = _sample([150.0] * 10 + [0.0] * 19)  # 29 members
    estimate = mean_difference(small, HOLDOUT, converters=20)
    assert estimate.verdict is Verdict.TOO_FEW
    assert math.isnan(estimate.low)


def test_too_few_buyers_are_too_few_to_tell() -> None:
    estimate = mean_difference(RECIPIENTS, HOLDOUT, converters=4)
    assert estimate.verdict is Verdict.TOO_FEW


def test_difference_in_proportions_is_newcombes_hybrid_score_interval() -> None:
    # 20/100 vs 10/100 (statsmodels' method="newcomb" gives the same to 1e-12)
    estimate = proportion_difference(20, 100, 10, 100)
    assert estimate.difference == pytest.approx(0.1)
    assert estimate.low == pytest.approx(0.000149, abs=1e-6)
    assert estimate.high == pytest.approx(0.199474, abs=1e-6)
    assert estimate.verdict is Verdict.UP


def _moments(values: list[float], earlier: list[float] | None = None) -> Moments:
    x = earlier if earlier is not None else [0.0] * len(values)
    return Moments(
        len(values),
        sum(values),
        sum(v * v for v in values),
        sum(x),
        sum(v * v for v in x),
        sum(a * b for a, b in zip(x, values, strict=True)),
    )


@pytest.mark.parametrize(("spent", "held"), [(100.0, 100.0), (100.0, 90.0), (33.33, 12.07)])
def test_no_spread_in_either_group_gives_no_interval(spent: float, held: float) -> None:
    """Everyone in each group spent the same: the standard error is 0 (or rounding noise), and
    an interval of no width would claim a certainty sixty members cannot give."""
    estimate = adjusted_difference(_moments([spent] * 31), _moments([held] * 37), converters=68)
    assert estimate.verdict is Verdict.TOO_FEW
    assert estimate.no_variation
    assert not estimate.measured
    assert math.isnan(estimate.low)
    assert math.isnan(estimate.high)
    assert estimate.difference == pytest.approx(spent - held)


def test_too_few_members_is_not_called_no_variation() -> None:
    estimate = adjusted_difference(_moments([100.0] * 29), _moments([90.0] * 30), converters=59)
    assert estimate.verdict is Verdict.TOO_FEW
    assert not estimate.no_variation


def test_spread_before_the_campaign_still_gives_an_interval() -> None:
    """The window itself did not vary, but the earlier window did: the earlier-window error
    (everyone's untreated spread) is not 0, so there is an interval with width."""
    history = [0.0, 200.0] * 15
    estimate = adjusted_difference(
        _moments([100.0] * 30, history), _moments([90.0] * 30, history), converters=60
    )
    assert estimate.measured
    assert not estimate.no_variation
    assert estimate.high - estimate.low > 1.0
