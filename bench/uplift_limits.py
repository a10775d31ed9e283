"""What the uplift interval cannot do, measured: the two targets of the calibration that missed.

    python -m bench.uplift_limits [--members N] [--campaigns N] [--seed N]

1. **How far adjusting for earlier spending can shrink the detectable uplift on the demo
   shop's population** (``d_demo`` of :mod:`bench.calibration_models`, habits that persist).
   The minimum detectable uplift is proportional to the standard deviation of what the
   interval must cover, so adjusting for a covariate with correlation ``r`` to the window's
   revenue multiplies it by ``sqrt(1 − r²)``. Measured for campaign windows of 1, 2 and 4
   weeks against earlier windows 1, 4, 8 and 13 times as long, and against an *oracle* that
   knows each member's true visit rate: the window's expected revenue given the member's
   habits is their rate times the mean basket, so no covariate made of the member's past
   (however long, in whatever form) can do better than the oracle.
2. **The one cell under 0.93** (``a_current``, variance-reducing effect, 200 members, 20%
   hold-out) with small-sample corrections of the product's interval: Student's t with
   Welch–Satterthwaite degrees of freedom (from the two groups' residual variances) or with
   the hold-out's own ``n − 2``, instead of ``n − 4``; and, as "too few to tell", a minimum
   number of buyers in the hold-out — with what that minimum costs in the cells that hold
   without it (the share of campaigns still given an interval).
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from typing import Final

import numpy as np

from bench.calibration import _moments
from bench.calibration_models import Array, _habits, _window, draw, true_effects
from shop.campaigns.uplift import Moments, adjusted_difference, adjusted_errors, fit_at
from shop.campaigns.uplift import t_quantile_975 as t975

WINDOWS: Final = (1, 2, 4)
PRE_MULTIPLES: Final = (1, 4, 8, 13)
#: (population, effect, audience, hold-out %): the missed cell, then cells a minimum of
#: hold-out buyers would cost most in (few buyers per member)
CELLS: Final = (
    ("a_current", "variance_down", 200, 20),
    ("a_current", "none", 200, 20),
    ("b_zero_heavy", "none", 200, 20),
    ("b_zero_heavy", "none", 1000, 5),
    ("d_demo", "none", 1000, 5),
)
MIN_HOLDOUT_BUYERS: Final = (0, 5, 6, 8)


def _ratio(covariate: Array, y: Array) -> float:
    r = float(np.corrcoef(covariate, y)[0, 1])
    return math.sqrt(1 - r * r)


def demo_bound(members: int, seed: int) -> list[str]:
    """Detectable uplift with the adjustment ÷ without it, on ``d_demo``."""
    rng = np.random.default_rng(seed)
    header = " | ".join(f"earlier {m}× as long" for m in PRE_MULTIPLES)
    lines = [
        f"| campaign window | {header} | oracle (true visit rate) |",
        "|---" * (len(PRE_MULTIPLES) + 2) + "|",
    ]
    for weeks in WINDOWS:
        rate, scale = _habits("d_demo", rng, members)
        rate = rate * weeks  # the model's rates are per week

        def spend(multiple: float, rate: Array = rate, scale: Array = scale) -> Array:
            owner, basket = _window("d_demo", rng, rate * multiple, scale)
            return np.bincount(owner, basket, minlength=members)

        y = spend(1)
        cells = [f"{_ratio(spend(m), y):.2f}" for m in PRE_MULTIPLES]
        lines.append(f"| {weeks * 7} days | {' | '.join(cells)} | {_ratio(rate, y):.2f} |")
    return lines


def _halves(treated: Moments, control: Moments) -> tuple[float, dict[str, float]]:
    """The adjusted difference and the half-widths of the product's interval with each
    candidate quantile."""
    errors = adjusted_errors(treated, control)
    x0 = (treated.x + control.x) / (treated.n + control.n)
    ft, fc = fit_at(treated, x0), fit_at(control, x0)
    a = ft.rss / (ft.n - 2) * ft.leverage
    b = fc.rss / (fc.n - 2) * fc.leverage
    n = treated.n + control.n
    welch = (a + b) ** 2 / (a * a / (ft.n - 2) + b * b / (fc.n - 2)) if a + b > 0 else n - 4
    se = errors.larger
    return errors.difference, {
        "t, n − 4 (product)": t975(n - 4) * se,
        "t, Welch–Satterthwaite df": t975(welch) * se,
        "t, hold-out n − 2": t975(fc.n - 2) * se,
    }


def _cell(cell: tuple[str, str, int, int], campaigns: int, rng: np.random.Generator) -> str:
    population, effect, audience, holdout = cell
    truth = true_effects(population, effect, 4_000_000, 11)[0]
    d = draw(population, effect, rng, campaigns * audience)
    x, y0, y1 = (a.reshape(campaigns, audience) for a in (d.x, d.y0, d.y1))
    held = rng.random((campaigns, audience)) < holdout / 100
    recipients, buyers_t = _moments(~held, x, y1)
    holdouts, buyers_c = _moments(held, x, y0)
    covered: dict[str, int] = {}
    rule = {k: [0, 0] for k in MIN_HOLDOUT_BUYERS}  # intervals, covered
    shown = 0
    for t, c, bt, bc in zip(recipients, holdouts, buyers_t, buyers_c, strict=True):
        if not adjusted_difference(t, c, int(bt + bc)).measured:
            continue
        shown += 1
        difference, halves = _halves(t, c)
        for name, half in halves.items():
            covered[name] = covered.get(name, 0) + (abs(difference - truth) <= half)
        product = abs(difference - truth) <= halves["t, n − 4 (product)"]
        for k in MIN_HOLDOUT_BUYERS:
            if bc >= k:
                rule[k][0] += 1
                rule[k][1] += product
    quantiles = " | ".join(f"{v / shown:.3f}" if shown else "—" for v in covered.values())
    minimum = " | ".join(
        f"{n / campaigns:.2f} / {(hit / n if n else math.nan):.3f}" for n, hit in rule.values()
    )
    return f"| {population} | {effect} | {audience:,} | {holdout}% | {quantiles} | {minimum} |"


def small_sample(campaigns: int, seed: int) -> list[str]:
    """Coverage per candidate in :data:`CELLS` (for a zero effect, 1 − coverage is the
    false-positive rate)."""
    rng = np.random.default_rng(seed)
    minimum = " | ".join(f"≥ {k} hold-out buyers: share / coverage" for k in MIN_HOLDOUT_BUYERS)
    lines = [
        "| population | effect | audience | hold-out | t, n − 4 (product) | "
        f"t, Welch–Satterthwaite df | t, hold-out n − 2 | {minimum} |",
        "|---" * (7 + len(MIN_HOLDOUT_BUYERS)) + "|",
    ]
    lines += [_cell(cell, campaigns, rng) for cell in CELLS]
    return lines


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=2_000_000)
    parser.add_argument("--campaigns", type=int, default=4000, help="per cell")
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args(argv)
    print("\n".join(demo_bound(args.members, args.seed)), end="\n\n")
    print("\n".join(small_sample(args.campaigns, args.seed)))


if __name__ == "__main__":
    main()
