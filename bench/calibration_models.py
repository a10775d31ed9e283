"""The populations and effects of the uplift calibration grid (``bench.calibration``).

Every member has a hidden habit: how often they come (``rate``, expected visits per window)
and what they spend (a member scale times a per-visit basket). ``x`` is their spend in the
:data:`~shop.campaigns.uplift.HISTORY_MULTIPLE` windows before the campaign (``w`` in the last
of those, the window just before the campaign's), ``y0`` in the campaign's window without the
message and ``y1`` with it, drawn together (the same visits and baskets, then the effect
applied), so the true effect on revenue and on conversion is known exactly in distribution and
estimated without noise worth mentioning from a very large paired draw (:func:`true_effects`).

Populations:

- ``a_current``: the project's own calibration model (:mod:`simulator.calibration`): a
  member buys once in the window with probability 0.2, basket lognormal (median ฿180, σ 1),
  one buyer in fifty a "whale" spending 25 times as much; nothing carries over from one window
  to the next (``x`` is an independent draw, so the adjustment has nothing to work with).
- ``b_zero_heavy``: 85% of members almost never buy (0.03 visits a window); the rest come
  Gamma(2, 0.6) times a window and spend a member scale (lognormal, median ฿100) times a
  Pareto(α 2.5) basket; habits persist.
- ``c_all_heavy``: everyone comes Gamma(2, 0.8) times a window; member scale ฿50 × Pareto(α
  2.2), basket lognormal σ 0.8 around it; habits persist.
- ``d_demo``: the demo shop's generator (``storage.synthetic.rows``): visit rates lognormal
  (median 0.12 a week, σ 1.3, at most 5), 20% lapsed or never buying, tea-shop tickets of 1–5
  items at ฿35–120.

Effects (``y1`` from ``y0``'s visits): ``none``; ``shift`` — one extra visit with
probability 0.05 (a basket of the member's usual kind); ``multiplier`` — every basket × 1.25;
``negative`` — each visit skipped with probability 0.15; ``variance_down`` — more small
buyers, fewer big spenders: every basket capped at ฿500, and one extra ฿60 visit with
probability 0.15.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from shop.campaigns.uplift import HISTORY_MULTIPLE

Array = NDArray[Any]

POPULATIONS: Final = ("a_current", "b_zero_heavy", "c_all_heavy", "d_demo")
EFFECTS: Final = ("none", "shift", "multiplier", "negative", "variance_down")
CAP: Final = 500.0
SMALL: Final = 60.0


@dataclass(frozen=True, slots=True)
class Draw:
    """Per member (flat): earlier spend ``x`` (the history) and ``w`` (its last window), spend
    without (``y0``) and with (``y1``) the message."""

    x: Array
    y0: Array
    y1: Array
    w: Array


def _habits(population: str, rng: np.random.Generator, n: int) -> tuple[Array, Array]:
    """Each member's expected visits per window and spending scale."""
    if population == "b_zero_heavy":
        regular = rng.random(n) < 0.15
        rate = np.where(regular, rng.gamma(2.0, 0.6, n), 0.03)
        return rate, rng.lognormal(np.log(100.0), 0.5, n)
    if population == "c_all_heavy":
        return rng.gamma(2.0, 0.8, n), 50.0 * (rng.pareto(2.2, n) + 1.0)
    if population == "d_demo":
        rate = np.minimum(5.0, rng.lognormal(np.log(0.12), 1.3, n))
        rate[rng.random(n) < 0.2] = 0.0
        return rate, np.ones(n)
    return np.full(n, 0.2), np.full(n, 180.0)


_ITEMS: Final = np.array([1, 2, 3, 4, 5])
_ITEM_SHARE: Final = np.array([0.55, 0.30, 0.10, 0.025, 0.025])
_PRICES: Final = np.array([55, 60, 65, 70, 75, 85, 95, 50, 55, 65, 75, 90, 45, 55, 65, 75, 85,
                           35, 45, 59, 79, 99, 120], dtype=np.float64)  # fmt: skip


def _baskets(population: str, rng: np.random.Generator, scale: Array) -> Array:
    """One basket per entry of ``scale`` (the visiting member's scale)."""
    k = scale.size
    if population == "b_zero_heavy":
        return scale * (rng.pareto(2.5, k) + 1.0)
    if population == "c_all_heavy":
        return scale * rng.lognormal(0.0, 0.8, k)
    if population == "d_demo":
        items: Array = rng.choice(_ITEMS, k, p=_ITEM_SHARE)
        # the items times one price: a little more spread than the sum of distinct prices
        prices: Array = items * rng.choice(_PRICES, k)
        return prices
    whale = rng.random(k) < 0.02
    return scale * rng.lognormal(0.0, 1.0, k) * np.where(whale, 25.0, 1.0)


def _visits(population: str, rng: np.random.Generator, rate: Array) -> NDArray[np.int64]:
    if population == "a_current":
        return (rng.random(rate.size) < rate).astype(np.int64)
    return rng.poisson(rate)


def _window(
    population: str, rng: np.random.Generator, rate: Array, scale: Array
) -> tuple[NDArray[np.int64], Array]:
    """Who visited (member index per visit) and each visit's basket."""
    owner = np.repeat(np.arange(rate.size), _visits(population, rng, rate))
    return owner, _baskets(population, rng, scale[owner])


def draw(population: str, effect: str, rng: np.random.Generator, n: int) -> Draw:
    """``n`` members' ``x``, ``y0`` and ``y1`` (see the module docstring)."""
    rate, scale = _habits(population, rng, n)
    # the habits carry over (in ``a_current`` they are the same for everyone: nothing does)
    before = _window(population, rng, rate, scale)
    w = np.bincount(before[0], before[1], minlength=n)
    x = w.copy()
    for _ in range(HISTORY_MULTIPLE - 1):  # window by window: a_current's visits are 0 or 1
        older = _window(population, rng, rate, scale)
        x += np.bincount(older[0], older[1], minlength=n)
    owner, basket = _window(population, rng, rate, scale)
    y0 = np.bincount(owner, basket, minlength=n)
    treated = basket
    if effect == "multiplier":
        treated = basket * 1.25
    elif effect == "negative":
        treated = np.where(rng.random(basket.size) < 0.15, 0.0, basket)
    elif effect == "variance_down":
        treated = np.minimum(basket, CAP)
    y1 = np.bincount(owner, treated, minlength=n)
    if effect == "shift":
        extra = rng.random(n) < 0.05
        y1 = y1 + np.where(extra, _baskets(population, rng, scale), 0.0)
    elif effect == "variance_down":
        y1 = y1 + np.where(rng.random(n) < 0.15, SMALL, 0.0)
    return Draw(x, y0, y1, w)


def true_effects(population: str, effect: str, members: int, seed: int) -> tuple[float, float]:
    """(revenue per member, conversion) effect, from ``members`` paired draws: the paired
    difference's spread is small, so 2·10⁷ members put the truth within a fraction of a
    percent of the narrowest interval in the grid."""
    rng = np.random.default_rng(seed)
    revenue = conversion = 0.0
    chunk, done = 1_000_000, 0
    while done < members:
        d = draw(population, effect, rng, chunk)
        revenue += float(np.sum(d.y1 - d.y0))
        conversion += float(np.sum((d.y1 > 0).astype(np.float64) - (d.y0 > 0)))
        done += chunk
    return revenue / done, conversion / done
