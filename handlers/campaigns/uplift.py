"""Did the campaign bring anything in? Recipients against the hold-out group, with a 95% interval.

In plain words, for the owner: members of the segment were split by lot into *recipients* (got
the message) and a *hold-out* group (got nothing). Whatever difference we see between the two
groups in the attribution window is what the campaign did — plus luck. The interval says how
big the luck could be: if it runs from +12 to +40 baht per member, the campaign very likely
earned between 12 and 40 baht per member; if it runs from −5 to +30, we cannot tell the
campaign from chance ("no detectable effect"); and with too few members we say so rather than
print a confident-looking number.

The method, for engineers:

- **Revenue per member** (every member counts, buyers and non-buyers alike): difference in
  means with Welch's unequal-variance standard error, ``sqrt(s_r²/n_r + s_h²/n_h)``, and a
  Student t quantile with Welch–Satterthwaite degrees of freedom. It needs only each group's
  count, sum and sum of squares, which the database aggregates in one query — no per-member
  rows leave SQL. Shop revenue is heavy-tailed (most members spend 0 in a week, a few spend a
  lot); Welch stays valid for that once the groups are a few dozen members (central limit
  theorem), which is why :data:`MIN_MEMBERS` exists. A bootstrap would cope a little better
  with very skewed small groups, but it needs every member's value in Python (against the
  "aggregates only" rule, and memory-bound for 100k members), gives a different answer on
  each run unless seeded, and for the group sizes where we print a number at all it agrees
  with Welch to within rounding. The next issue calibrates this choice on a simulator.
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
    """Welch–Satterthwaite degrees of freedom (infinite when both variances are 0)."""
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


def mean_difference(treated: GroupSample, control: GroupSample, converters: int) -> Estimate:
    """Difference in mean value per member (Welch). ``converters`` counts members with any
    value in both groups together, for the "too few to tell" rule."""
    difference = treated.mean - control.mean
    if too_few(treated.n, control.n, converters):
        return Estimate(difference, math.nan, math.nan, Verdict.TOO_FEW)
    se = math.sqrt(treated.variance / treated.n + control.variance / control.n)
    half = t_quantile_975(welch_df(treated, control)) * se
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
