"""Did the campaign bring anything in? Recipients against the hold-out group, with a 95% interval.

In plain words, for the owner: members of the segment were split by lot into *recipients* (got
the message) and a *hold-out* group (got nothing). Whatever difference we see between the two
groups in the attribution window is what the campaign did — plus luck. The interval says how
big the luck could be: if it runs from +12 to +40 baht per member, the campaign very likely
earned between 12 and 40 baht per member; if it runs from −5 to +30, we cannot tell the
campaign from chance ("no detectable effect"); and with too few members we say so rather than
print a confident-looking number. Before sending, ``/campaign preview`` says how big an
uplift the audience and hold-out can detect at all (:func:`minimum_detectable_effect`).

The method, for engineers:

- **Revenue per member** (every member counts, buyers and non-buyers alike): difference in
  means with the *pooled* standard error ``s_p·sqrt(1/n_r + 1/n_h)``, where ``s_p²`` is the
  variance of both groups together (each around its own mean), and a Student t quantile with
  ``n_r + n_h − 2`` degrees of freedom. It needs only each group's count, sum and sum of
  squares, which the database aggregates in one query — no per-member rows leave SQL.

  Why pooled and not Welch's ``sqrt(s_r²/n_r + s_h²/n_h)``: shop revenue is heavy-tailed
  (most members spend 0 in a week, a few spend a lot, and a rare big spender can be a third
  of the takings). A small hold-out usually contains none of the rare big spenders, so its
  own variance comes out far too low and Welch's interval too narrow. The split is by lot, so
  before the message both groups are the same population: pooling estimates the spread from
  every member. On simulated campaigns with a known effect (``python -m bench.calibration``,
  heavy-tailed spend) Welch's intervals covered the true effect clearly less often than they
  promise and the pooled ones as promised (``bench/RESULTS.md``); raising the "too few"
  thresholds did not rescue Welch, and taking the larger of the two variances was needlessly
  wide.
  A bootstrap was not tried: it needs every member's value in Python (against the
  aggregates-only rule), and resampling a hold-out that holds no big spender cannot show one.
- **Conversion** (share of members with at least one visit): difference in proportions with
  the unpooled normal standard error ``sqrt(p_r(1−p_r)/n_r + p_h(1−p_h)/n_h)`` and z = 1.96.
- **Too few to tell**: either group below :data:`MIN_MEMBERS` members, or fewer than
  :data:`MIN_CONVERTERS` converters in both groups together (nobody bought: nothing to compare).
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from typing import Final

MIN_MEMBERS: Final = 30
MIN_CONVERTERS: Final = 5
Z_975: Final = 1.959963984540054
Z_80: Final = 0.8416212335729143  # the 80% quantile of the normal: 80% power


class Verdict(enum.StrEnum):
    TOO_FEW = "too_few"  # not enough members (or buyers) to say anything
    NO_EFFECT = "no_effect"  # the interval contains 0
    UP = "up"  # the whole interval is above 0
    DOWN = "down"  # the whole interval is below 0


@dataclass(frozen=True, slots=True)
class GroupSample:
    """One group's per-member values, as SQL aggregates: count, sum and sum of squares."""

    n: int
    total: float
    total_sq: float

    @property
    def mean(self) -> float:
        return self.total / self.n if self.n else 0.0

    @property
    def variance(self) -> float:
        """The sample variance (n − 1 in the denominator); 0 for fewer than two members."""
        if self.n < 2:
            return 0.0
        # max(): rounding can make a true 0 come out a hair below it
        return max(0.0, (self.total_sq - self.total * self.total / self.n) / (self.n - 1))


@dataclass(frozen=True, slots=True)
class Estimate:
    """Recipients minus hold-out, with a 95% interval ``[low, high]``."""

    difference: float
    low: float
    high: float
    verdict: Verdict


def t_quantile_975(df: float) -> float:
    """The 97.5% quantile of Student's t with ``df`` degrees of freedom.

    Cornish–Fisher expansion around the normal quantile (Abramowitz & Stegun 26.7.5): within
    0.001 of the exact value from 5 degrees of freedom on, which is all we use (groups < 30
    are "too few" anyway). Infinite or huge ``df`` gives the normal quantile.
    """
    if not math.isfinite(df) or df > 1e7:
        return Z_975
    z, nu = Z_975, max(df, 1.0)
    g1 = (z**3 + z) / 4
    g2 = (5 * z**5 + 16 * z**3 + 3 * z) / 96
    g3 = (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384
    g4 = (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / 92160
    return z + g1 / nu + g2 / nu**2 + g3 / nu**3 + g4 / nu**4


def welch_df(treated: GroupSample, control: GroupSample) -> float:
    """Welch–Satterthwaite degrees of freedom (infinite when both variances are 0); kept for
    comparing Welch's interval with the pooled one (``bench.calibration``)."""
    a = treated.variance / treated.n
    b = control.variance / control.n
    denominator = a * a / (treated.n - 1) + b * b / (control.n - 1)
    return math.inf if denominator == 0 else (a + b) ** 2 / denominator


def _verdict(low: float, high: float) -> Verdict:
    if low > 0:
        return Verdict.UP
    if high < 0:
        return Verdict.DOWN
    return Verdict.NO_EFFECT


def too_few(treated_n: int, control_n: int, converters: int) -> bool:
    return min(treated_n, control_n) < MIN_MEMBERS or converters < MIN_CONVERTERS


def pooled_variance(treated: GroupSample, control: GroupSample) -> float:
    """The variance of both groups together, each member around their own group's mean."""
    df = treated.n + control.n - 2
    if df <= 0:
        return 0.0
    return ((treated.n - 1) * treated.variance + (control.n - 1) * control.variance) / df


def mean_difference(treated: GroupSample, control: GroupSample, converters: int) -> Estimate:
    """Difference in mean value per member with the pooled standard error (see the module
    docstring for why). ``converters`` counts members with any value in both groups
    together, for the "too few to tell" rule."""
    difference = treated.mean - control.mean
    if too_few(treated.n, control.n, converters):
        return Estimate(difference, math.nan, math.nan, Verdict.TOO_FEW)
    se = math.sqrt(pooled_variance(treated, control) * (1 / treated.n + 1 / control.n))
    half = t_quantile_975(treated.n + control.n - 2) * se
    low, high = difference - half, difference + half
    return Estimate(difference, low, high, _verdict(low, high))


def proportion_difference(
    treated_hits: int, treated_n: int, control_hits: int, control_n: int
) -> Estimate:
    """Difference in the share of members who converted (normal approximation, unpooled)."""
    p_t = treated_hits / treated_n if treated_n else 0.0
    p_c = control_hits / control_n if control_n else 0.0
    difference = p_t - p_c
    if too_few(treated_n, control_n, treated_hits + control_hits):
        return Estimate(difference, math.nan, math.nan, Verdict.TOO_FEW)
    se = math.sqrt(p_t * (1 - p_t) / treated_n + p_c * (1 - p_c) / control_n)
    low, high = difference - Z_975 * se, difference + Z_975 * se
    return Estimate(difference, low, high, _verdict(low, high))


def minimum_detectable_effect(variance: float, treated_n: int, control_n: int) -> float:
    """The smallest true difference in mean value per member that a two-sided 5% test finds
    with 80% power, given the per-member ``variance`` of the outcome and the group sizes:
    ``(z_0.975 + z_0.8) × sqrt(var/n_t + var/n_c)``. ``math.inf`` when a group is empty
    (nothing can be detected without someone to compare against)."""
    if treated_n <= 0 or control_n <= 0:
        return math.inf
    return (Z_975 + Z_80) * math.sqrt(max(variance, 0.0) * (1 / treated_n + 1 / control_n))
