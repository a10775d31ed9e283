"""The intervals the calibration grid (:mod:`bench.calibration`) judges: the product's and the
candidates it was chosen against, each from the same per-group aggregates (:class:`Moments`)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from typing import Final

from shop.campaigns.uplift import (
    Estimate,
    Moments,
    Verdict,
    adjusted_difference,
    adjusted_errors,
    mean_difference,
    t_quantile_975,
    too_few,
)
from shop.campaigns.uplift_skew import skewed_bounds

Method = Callable[[Moments, Moments, int], Estimate]


def _interval(difference: float, half: float) -> Estimate:
    return _interval_between(difference, difference - half, difference + half)


def _interval_between(difference: float, low: float, high: float) -> Estimate:
    verdict = Verdict.UP if low > 0 else Verdict.DOWN if high < 0 else Verdict.NO_EFFECT
    return Estimate(difference, low, high, verdict)


def _adjusted(which: str) -> Method:
    def method(treated: Moments, control: Moments, converters: int) -> Estimate:
        if too_few(treated.n, control.n, converters):
            return Estimate(math.nan, math.nan, math.nan, Verdict.TOO_FEW)
        errors = adjusted_errors(treated, control)
        se = {
            "separate": errors.separate,
            "pooled": errors.pooled,
            "larger of two": max(errors.separate, errors.pooled),
        }[which]
        return _interval(errors.difference, t_quantile_975(treated.n + control.n - 4) * se)

    return method


def _plain(which: str) -> Method:
    def method(treated: Moments, control: Moments, converters: int) -> Estimate:
        if which == "pooled":
            return mean_difference(treated.sample(), control.sample(), converters)
        plain = _adjusted(which)
        return plain(_no_x(treated), _no_x(control), converters)

    return method


def _no_x(group: Moments) -> Moments:
    return Moments(group.n, group.y, group.yy)


def _symmetric(treated: Moments, control: Moments, converters: int) -> Estimate:
    """The product's interval without the skewness correction (the groups' cubes dropped)."""
    return adjusted_difference(
        replace(treated, cubes=None), replace(control, cubes=None), converters
    )


def _hall(treated: Moments, control: Moments, converters: int) -> Estimate:
    """Hall's skewness-corrected interval alone (narrower on the other side)."""
    if too_few(treated.n, control.n, converters):
        return Estimate(math.nan, math.nan, math.nan, Verdict.TOO_FEW)
    errors = adjusted_errors(treated, control)
    q = t_quantile_975(treated.n + control.n - 4)
    low, high = skewed_bounds(errors.difference, errors.larger, errors.skewness, q)
    return _interval_between(errors.difference, low, high)


#: the product's interval first; the rest are the candidates it was chosen against
PRODUCT: Final = "adjusted, largest of three errors, widened for skewness (product)"
REVENUE_METHODS: Final[dict[str, Method]] = {
    PRODUCT: adjusted_difference,
    "adjusted, largest of three errors, symmetric (before)": _symmetric,
    "adjusted, largest of three errors, Hall's skewness correction alone": _hall,
    "adjusted, larger of separate and pooled": _adjusted("larger of two"),
    "adjusted, separate error": _adjusted("separate"),
    "adjusted, pooled error": _adjusted("pooled"),
    "plain, pooled error (before)": _plain("pooled"),
    "plain, separate error (Welch-like)": _plain("separate"),
    "plain, larger of separate and pooled": lambda t, c, k: _adjusted("larger of two")(
        _no_x(t), _no_x(c), k
    ),
}


def normal_proportion(hits_t: int, n_t: int, hits_c: int, n_c: int) -> Estimate:
    """The conversion interval used before (normal approximation), for comparison."""
    if too_few(n_t, n_c, hits_t + hits_c):
        return Estimate(math.nan, math.nan, math.nan, Verdict.TOO_FEW)
    p_t, p_c = hits_t / n_t, hits_c / n_c
    se = math.sqrt(p_t * (1 - p_t) / n_t + p_c * (1 - p_c) / n_c)
    return _interval(p_t - p_c, 1.959963984540054 * se)
