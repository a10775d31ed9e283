"""Did the campaign bring anything in? Recipients against the hold-out group, with a 95% interval.

In plain words, for the owner: members of the segment were split by lot into *recipients* (got
the message) and a *hold-out* group (got nothing). Whatever difference we see between the two
groups in the attribution window is what the campaign did — plus luck. The interval says how
big the luck could be: if it runs from +12 to +40 baht per member, the campaign very likely
earned between 12 and 40 baht per member; if it runs from −5 to +30, we cannot tell the
campaign from chance ("no detectable effect"); and with too few members we say so rather than
print a confident-looking number. Before sending, ``/campaign preview`` says how big an
uplift the audience and hold-out can detect at all (:func:`minimum_detectable_effect`).

The method, for engineers (the evidence for each choice: ``bench/RESULTS.md``, "Uplift
calibration", from ``python -m bench.calibration``):

- **Revenue per member** (every member counts, buyers and non-buyers alike) is adjusted for
  what the same member spent in the :data:`HISTORY_MULTIPLE` windows of the campaign's
  length just *before* it (four weeks for a week's campaign; regression adjustment, "CUPED";
  Lin 2013's interacted form): within each group the window's revenue ``y`` is regressed on
  the member's earlier revenue ``x``, and the estimate is the difference of the two groups'
  fitted values at the pooled mean of ``x``. The lot makes ``x`` independent of the group, so
  this is unbiased for the same effect as the plain difference in means; it removes the part
  of the spread that regular customers' habits explain, which narrows the interval. A longer
  history tells a member's habit better than the one matching window: most members come
  every few weeks, so whether they came in one particular week is mostly luck.
- Its standard error is the **largest** of three, each honest where another is not:
  the *separate* error, each group's own residual variance (the unequal-variance, "robust"
  form: honest when the campaign changes the spread — more small buyers, fewer big spenders
  — where a pooled error is far too narrow); the *pooled* error of the same regression (one
  residual variance for both groups: honest when a small hold-out by chance holds none of the
  rare big spenders, where its own variance is far too low and the separate error alone gives
  false alarms); and the *earlier-window* error, which takes the hold-out's variance from
  what *every* member of the audience spent in the window of the campaign's length just
  before it (nobody was treated then, so that is the untreated spread, seen in ten or twenty
  times as many members as the hold-out has) times the share the adjustment leaves
  unexplained: honest when rare big spenders carry much of the revenue and the campaign keeps
  them away from the recipients, so that neither group in the window shows them. Each of the
  first two alone failed a regime of the calibration grid, and both together failed the last
  one; the largest of the three held.
  Student t quantile with ``n − 4`` degrees of freedom. Everything is computed from each
  group's count and sums of ``y``, ``y²``, ``x``, ``x²``, ``x·y``, and of the same-length
  earlier window ``w`` and ``w²`` (:class:`Moments`), which the database aggregates in one
  query.
- **Conversion** (share of members with at least one visit): Newcombe's hybrid score
  interval for a difference of proportions (each group's Wilson interval, combined), which
  holds its 95% with a small hold-out where the normal approximation falls short.
- **Too few to tell**: either group below :data:`MIN_MEMBERS` members, or fewer than
  :data:`MIN_CONVERTERS` converters in both groups together (nobody bought: nothing to compare).
- **Too little variation to tell**: enough members, but the revenue's standard error comes out
  0 (or not a number, or below the money's resolution): everyone in each group spent the same,
  and nothing before the campaign varied either. The spread the interval is made of was not
  seen, so there is no interval — not one of no width, which would claim a certainty nobody
  measured. Reported like "too few" (:attr:`Estimate.no_variation` says which).
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
#: the covariate's history, in windows of the campaign's length
HISTORY_MULTIPLE: Final = 4
#: half a satang, in baht: an interval narrower than this each side rounds to one amount
MIN_HALF_WIDTH: Final = 0.005


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
class Moments:
    """One group's per-member outcome ``y`` and earlier value ``x`` as SQL aggregates: the
    count and the sums of ``y``, ``y²``, ``x``, ``x²`` and ``x·y``; and the sum and sum of
    squares of ``w``, the value in the earlier window of the same length as ``y``'s (``x``
    may cover a longer history), or None when ``x`` is that window."""

    n: int
    y: float
    yy: float
    x: float = 0.0
    xx: float = 0.0
    xy: float = 0.0
    w: float | None = None
    ww: float | None = None

    @property
    def mean_y(self) -> float:
        return self.y / self.n if self.n else 0.0

    @property
    def mean_x(self) -> float:
        return self.x / self.n if self.n else 0.0

    def centred(self) -> tuple[float, float, float]:
        """``(Σ(y−ȳ)², Σ(x−x̄)², Σ(x−x̄)(y−ȳ))`` over the group."""
        if not self.n:
            return 0.0, 0.0, 0.0
        syy = max(0.0, self.yy - self.y * self.y / self.n)
        sxx = max(0.0, self.xx - self.x * self.x / self.n)
        return syy, sxx, self.xy - self.x * self.y / self.n

    def sample(self) -> GroupSample:
        return GroupSample(self.n, self.y, self.yy)

    def same_length(self) -> tuple[float, float]:
        """The sum and sum of squares of the earlier window as long as ``y``'s."""
        if self.w is None or self.ww is None:
            return self.x, self.xx
        return self.w, self.ww


@dataclass(frozen=True, slots=True)
class Estimate:
    """Recipients minus hold-out, with a 95% interval ``[low, high]``. ``no_variation``: the
    verdict is TOO_FEW because the values did not vary (no standard error), not for want of
    members or buyers."""

    difference: float
    low: float
    high: float
    verdict: Verdict
    no_variation: bool = False

    @property
    def measured(self) -> bool:
        """An interval was computed (not "too few to tell")."""
        return self.verdict is not Verdict.TOO_FEW

    @property
    def detected(self) -> bool:
        """The interval excludes 0: an effect, up or down."""
        return self.verdict in (Verdict.UP, Verdict.DOWN)


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


def _verdict(low: float, high: float) -> Verdict:
    if low > 0:
        return Verdict.UP
    if high < 0:
        return Verdict.DOWN
    return Verdict.NO_EFFECT


def too_few(treated_n: int, control_n: int, converters: int) -> bool:
    return min(treated_n, control_n) < MIN_MEMBERS or converters < MIN_CONVERTERS


@dataclass(frozen=True, slots=True)
class Fit:
    """One group's regression of ``y`` on ``x``, evaluated at a common point ``x0``."""

    n: int
    #: the fitted ``y`` at ``x0``
    level: float
    #: the sum of squared residuals
    rss: float
    #: the factor of the residual variance in the fitted level's variance: 1/n + (x̄−x0)²/Sxx
    leverage: float


def fit_at(group: Moments, x0: float) -> Fit:
    """Least squares of ``y`` on ``x`` within ``group`` (the mean of ``y`` when ``x`` does not
    vary), evaluated at ``x0``."""
    syy, sxx, sxy = group.centred()
    # a relative floor: rounding leaves a constant x a hair away from 0
    if sxx <= 1e-12 * max(group.xx, 1.0):
        return Fit(group.n, group.mean_y, syy, 1 / group.n)
    slope = sxy / sxx
    gap = group.mean_x - x0
    rss = max(0.0, syy - slope * sxy)
    return Fit(group.n, group.mean_y - slope * gap, rss, 1 / group.n + gap * gap / sxx)


def _unexplained_share(treated: Moments, control: Moments) -> float:
    """``1 − r²`` of ``y`` on ``x`` within the groups (both together): the share of the
    spread the earlier window leaves unexplained (1 when ``x`` or ``y`` does not vary)."""
    syy_t, sxx_t, sxy_t = treated.centred()
    syy_c, sxx_c, sxy_c = control.centred()
    denominator = (sxx_t + sxx_c) * (syy_t + syy_c)
    if denominator <= 0:
        return 1.0
    return max(0.0, 1 - (sxy_t + sxy_c) ** 2 / denominator)


def earlier_variance(treated: Moments, control: Moments) -> float:
    """The hold-out's residual variance as the earlier window of *every* member tells it: the
    variance of the same-length earlier window ``w`` over both groups (before the campaign
    nobody was treated, so this is the untreated spread, seen in the whole audience rather
    than the small hold-out) times the share the adjustment on ``x`` leaves unexplained."""
    n = treated.n + control.n
    if n < 2:
        return 0.0
    (w_t, ww_t), (w_c, ww_c) = treated.same_length(), control.same_length()
    total, squares = w_t + w_c, ww_t + ww_c
    variance = max(0.0, (squares - total * total / n) / (n - 1))
    return variance * _unexplained_share(treated, control)


@dataclass(frozen=True, slots=True)
class Errors:
    """The regression-adjusted difference and its three candidate standard errors."""

    difference: float
    #: each group's own residual variance
    separate: float
    #: one residual variance for both groups
    pooled: float
    #: the recipients' own, the hold-out's from everyone's earlier window
    earlier: float

    @property
    def larger(self) -> float:
        return max(self.separate, self.pooled, self.earlier)


def adjusted_errors(treated: Moments, control: Moments) -> Errors:
    """The regression-adjusted difference and its errors (see the module docstring): the
    separate error uses each group's own residual variance (``rss / (n − 2)``), the pooled one
    a single residual variance ``Σ rss / (n − 4)``, the earlier one the recipients' own and
    :func:`earlier_variance` for the hold-out."""
    x0 = (treated.x + control.x) / (treated.n + control.n)
    t, c = fit_at(treated, x0), fit_at(control, x0)
    own_t = t.rss / (t.n - 2) * t.leverage
    separate = own_t + c.rss / (c.n - 2) * c.leverage
    pooled = (t.rss + c.rss) / (t.n + c.n - 4) * (t.leverage + c.leverage)
    earlier = own_t + earlier_variance(treated, control) * c.leverage
    return Errors(t.level - c.level, math.sqrt(separate), math.sqrt(pooled), math.sqrt(earlier))


def adjusted_difference(treated: Moments, control: Moments, converters: int) -> Estimate:
    """The regression-adjusted difference in mean value per member with the largest of the
    separate, pooled and earlier-window errors (see the module docstring). ``converters``
    counts members with any value in both groups together, for the "too few to tell" rule."""
    if too_few(treated.n, control.n, converters):
        return Estimate(treated.mean_y - control.mean_y, math.nan, math.nan, Verdict.TOO_FEW)
    errors = adjusted_errors(treated, control)
    half = t_quantile_975(treated.n + control.n - 4) * errors.larger
    # no spread seen, so none to build an interval from (see the module docstring)
    if not (math.isfinite(half) and half >= MIN_HALF_WIDTH):
        return Estimate(errors.difference, math.nan, math.nan, Verdict.TOO_FEW, no_variation=True)
    low, high = errors.difference - half, errors.difference + half
    return Estimate(errors.difference, low, high, _verdict(low, high))


def pooled_variance(treated: GroupSample, control: GroupSample) -> float:
    """The variance of both groups together, each member around their own group's mean."""
    df = treated.n + control.n - 2
    if df <= 0:
        return 0.0
    return ((treated.n - 1) * treated.variance + (control.n - 1) * control.variance) / df


def mean_difference(treated: GroupSample, control: GroupSample, converters: int) -> Estimate:
    """The unadjusted difference in means with the pooled standard error: what ``/stats``
    reported before the regression adjustment (kept for ``bench.calibration``'s comparison)."""
    difference = treated.mean - control.mean
    if too_few(treated.n, control.n, converters):
        return Estimate(difference, math.nan, math.nan, Verdict.TOO_FEW)
    se = math.sqrt(pooled_variance(treated, control) * (1 / treated.n + 1 / control.n))
    half = t_quantile_975(treated.n + control.n - 2) * se
    low, high = difference - half, difference + half
    return Estimate(difference, low, high, _verdict(low, high))


def wilson(hits: int, n: int) -> tuple[float, float]:
    """Wilson's 95% score interval for a proportion ``hits / n``."""
    z2 = Z_975 * Z_975
    p = hits / n
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = Z_975 / (1 + z2 / n) * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return centre - half, centre + half


def proportion_difference(
    treated_hits: int, treated_n: int, control_hits: int, control_n: int
) -> Estimate:
    """Difference in the share of members who converted, with Newcombe's hybrid score
    interval (his method 10: the two Wilson intervals combined)."""
    p_t = treated_hits / treated_n if treated_n else 0.0
    p_c = control_hits / control_n if control_n else 0.0
    difference = p_t - p_c
    if too_few(treated_n, control_n, treated_hits + control_hits):
        return Estimate(difference, math.nan, math.nan, Verdict.TOO_FEW)
    low_t, high_t = wilson(treated_hits, treated_n)
    low_c, high_c = wilson(control_hits, control_n)
    low = difference - math.sqrt((p_t - low_t) ** 2 + (high_c - p_c) ** 2)
    high = difference + math.sqrt((high_t - p_t) ** 2 + (p_c - low_c) ** 2)
    return Estimate(difference, low, high, _verdict(low, high))


def minimum_detectable_effect(variance: float, treated_n: int, control_n: int) -> float:
    """The smallest true difference in mean value per member that a two-sided 5% test finds
    with 80% power, given the per-member ``variance`` of the outcome and the group sizes:
    ``(z_0.975 + z_0.8) × sqrt(var/n_t + var/n_c)``. ``math.inf`` when a group is empty
    (nothing can be detected without someone to compare against). With the regression
    adjustment, ``variance`` is the residual variance (:func:`residual_variance`)."""
    if treated_n <= 0 or control_n <= 0:
        return math.inf
    return (Z_975 + Z_80) * math.sqrt(max(variance, 0.0) * (1 / treated_n + 1 / control_n))


def residual_variance(past: Moments) -> float:
    """The per-member variance the interval will have to cover, from the same members' past
    (``y`` the last window, ``x`` the history before it, ``w`` the window before ``y`` of
    its length): the larger of the residual variance of ``y`` on ``x`` and ``w``'s variance
    times the share the adjustment leaves unexplained — the separate error's and the earlier
    window's (:func:`earlier_variance`). ``y``'s plain variance when there are too few
    members to fit."""
    if past.n < 3:
        return past.sample().variance
    residual = fit_at(past, past.mean_x).rss / (past.n - 2)
    return max(residual, earlier_variance(past, Moments(0, 0.0, 0.0)))


def holdout_for(variance: float, measured: int, target: float) -> int | None:
    """The smallest hold-out (members) out of ``measured`` that detects an uplift of
    ``target`` per member (5% test, 80% power), or None when no split can."""
    if target <= 0 or measured < 2 * MIN_MEMBERS:
        return None
    # MDE² = k² v (1/n_c + 1/(N − n_c)): solve the quadratic n_c² − N n_c + k² v N / T² = 0
    k2v = (Z_975 + Z_80) ** 2 * max(variance, 0.0)
    c = k2v * measured / (target * target)
    disc = measured * measured - 4 * c
    if disc < 0:
        return None
    needed = max(MIN_MEMBERS, math.ceil((measured - math.sqrt(disc)) / 2))
    return needed if needed <= measured // 2 else None
