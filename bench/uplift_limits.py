"""What the uplift interval cannot do, measured: the two targets of the calibration that missed.

    python -m bench.uplift_limits [--members N] [--campaigns N] [--seed N] [--demo URL ...]

1. **How far adjusting for earlier spending can shrink the detectable uplift on the demo
   shop's population** (``d_demo`` of :mod:`bench.calibration_models`, habits that persist).
   The minimum detectable uplift is proportional to the standard deviation of what the
   interval must cover, so adjusting for a covariate with correlation ``r`` to the window's
   revenue multiplies it by ``sqrt(1 − r²)``. Measured for campaign windows of 1, 2 and 4
   weeks against earlier windows 1, 4, 8 and 13 times as long, and against an *oracle* that
   knows each member's true visit rate: the window's expected revenue given the member's
   habits is their rate times the mean basket, so no covariate made of the member's past
   (however long, in whatever form) can do better than the oracle.
2. **What could shrink it for the product's 7-day window** (``attribution_days`` is 7 for every
   campaign and automation): longer earlier windows, visits instead of spend, several
   covariates together (least squares on all of them, as a multi-covariate adjustment from
   SQL cross-products would do), and capping each member's revenue at a high percentile of the
   earlier window — with how much of a true effect the cap keeps, since a capped estimate is
   of capped revenue: its detectable uplift in terms of the *true* effect is the capped one
   divided by the share kept.
3. **The same on built demo shops** (``--demo``, the SQLite file of ``chatcrm demo``): the
   product's detectable uplift ÷ the plain one over all members, for the demo campaign's week
   and the week before it, with histories of 1, 4, 8 and 13 weeks.
4. **The one cell under 0.93** (``a_current``, variance-reducing effect, 200 members, 20%
   hold-out) with small-sample corrections of the product's interval: Student's t with
   Welch–Satterthwaite degrees of freedom (from the two groups' residual variances) or with
   the hold-out's own ``n − 2``, instead of ``n − 4``; and, as "too few to tell", a minimum
   number of buyers in the hold-out — with what that minimum costs in the cells that hold
   without it (the share of campaigns still given an interval).
"""

from __future__ import annotations

import argparse
import asyncio
import math
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Final

import numpy as np
from sqlalchemy import select

from bench.calibration import _moments
from bench.calibration_models import Array, _habits, _window, draw, true_effects
from shop.campaigns.uplift import (
    Moments,
    adjusted_difference,
    adjusted_errors,
    fit_at,
    residual_variance,
)
from shop.campaigns.uplift import t_quantile_975 as t975
from storage.db import create_engine
from storage.models import Campaign, Member, Sale

WINDOWS: Final = (1, 2, 4)
DEMO_CAMPAIGN: Final = "Free Thai milk tea"
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


def _adjusted_sd(y: Array, *covariates: Array) -> float:
    """The residual standard deviation of ``y`` after least squares on ``covariates``."""
    design = np.column_stack([np.ones(y.size), *covariates])
    beta = np.linalg.lstsq(design, y, rcond=None)[0]
    return float(np.std(y - design @ beta))


def week_covariates(members: int, seed: int) -> list[str]:
    """Detectable uplift with each covariate ÷ without any, for a 7-day window on ``d_demo``."""
    rng = np.random.default_rng(seed)
    rate, scale = _habits("d_demo", rng, members)

    def window(weeks: int) -> tuple[Array, Array]:
        owner, basket = _window("d_demo", rng, rate * weeks, scale)
        visits = np.bincount(owner, minlength=members).astype(np.float64)
        return np.bincount(owner, basket, minlength=members), visits

    y = window(1)[0]
    spend, visits = window(1)  # the matching week, then further back, week by week
    history = {7: (spend, visits)}
    for days in (28, 56, 91):
        more = window((days - max(history)) // 7)
        last = history[max(history)]
        history[days] = (last[0] + more[0], last[1] + more[1])
    rows = {
        "spend in the matching 7 days (the product)": (history[7][0],),
        "spend in the 28 days before": (history[28][0],),
        "spend in the 56 days before": (history[56][0],),
        "spend in the 91 days before": (history[91][0],),
        "visits in the 91 days before": (history[91][1],),
        "spend in the 7 and the 91 days, visits in the 91 days (three)": (
            history[7][0], history[91][0], history[91][1],
        ),
        "oracle: the true visit rate": (rate,),
    }  # fmt: skip
    plain = float(np.std(y))
    lines = ["| covariate (7-day campaign window) | detectable uplift ÷ without |", "|---|---|"]
    lines += [f"| {name} | {_adjusted_sd(y, *x) / plain:.3f} |" for name, x in rows.items()]
    return lines


def week_caps(members: int, seed: int) -> list[str]:
    """Capping each member's revenue at a percentile of everyone's earlier week, adjusted on
    the capped earlier week: the capped spread ÷ the plain one, and per effect the share of
    the true effect the cap keeps and the ratio in terms of the true effect."""
    rng = np.random.default_rng(seed)
    effects = ("shift", "multiplier", "negative", "variance_down")
    head = " | ".join(f"{e}: kept / in true terms" for e in effects)
    lines = [f"| cap (percentile: baht) | capped ÷ plain | {head} |", "|---" * 6 + "|"]
    draws = {e: draw("d_demo", e, rng, members) for e in effects}
    base = draws["shift"]
    for q in (98.0, 99.0, 99.5):
        cap = float(np.percentile(base.w, q))
        ratio = _adjusted_sd(np.minimum(base.y0, cap), np.minimum(base.w, cap)) / np.std(base.y0)
        cells = []
        for d in draws.values():
            kept = float(np.mean(np.minimum(d.y1, cap) - np.minimum(d.y0, cap)))
            kept /= float(np.mean(d.y1 - d.y0))
            cells.append(f"{kept:.2f} / {ratio / kept:.2f}")
        lines.append(f"| {q:g}th: ฿{cap:,.0f} | {ratio:.3f} | {' | '.join(cells)} |")
    return lines


async def _demo_spend(url: str) -> tuple[datetime, int, Array, Array]:
    """The demo campaign's start, the number of members, and each sale's member (an index),
    day offset from the start and amount."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            start = (
                await connection.execute(
                    select(Campaign.started_at).where(Campaign.name == DEMO_CAMPAIGN)
                )
            ).scalar_one()
            members = (await connection.execute(select(Member.id))).scalars().all()
            sales = (
                await connection.execute(
                    select(Sale.member_id, Sale.amount, Sale.occurred_at).where(
                        Sale.voided_at.is_(None), Sale.member_id.is_not(None)
                    )
                )
            ).all()
    finally:
        await engine.dispose()
    assert start is not None, "the demo's campaign has started"
    index = {m: k for k, m in enumerate(members)}
    owner = np.array([index[m] for m, _, _ in sales if m is not None])
    days = np.array([(at.replace(tzinfo=UTC) - start).total_seconds() / 86400 for *_, at in sales])
    amounts = np.array([float(a) for _, a, _ in sales])
    return start, len(members), owner, np.stack([days, amounts]) if sales else np.zeros((2, 0))


def _spend(owner: Array, sales: Array, members: int, first: float, last: float) -> Array:
    """Each member's spending from day ``first`` to day ``last`` (from the campaign's start)."""
    inside = (sales[0] >= first) & (sales[0] < last)
    return np.bincount(owner[inside], sales[1][inside], minlength=members)


def demo_shop(urls: Sequence[str]) -> list[str]:
    """On built demo shops (``chatcrm demo``), all members: the product's detectable uplift
    (:func:`~shop.campaigns.uplift.residual_variance`) ÷ the plain one (what ``/stats`` and
    the preview used before the adjustment), for the campaign's week and for the week before
    it, with histories of 1, 4, 8 and 13 weeks."""
    lines = [
        "| demo shop | week measured | "
        + " | ".join(f"history {m} week{'s' if m > 1 else ''}" for m in PRE_MULTIPLES)
        + " |",
        "|---" * (len(PRE_MULTIPLES) + 2) + "|",
    ]
    for url in urls:
        start, members, owner, sales = asyncio.run(_demo_spend(url))

        def spend(first: float, last: float) -> Array:
            return _spend(owner, sales, members, first, last)  # noqa: B023 (used at once)

        for label, at in (("the campaign's", 0), ("the one before", -7)):
            y, w = spend(at, at + 7), spend(at - 7, at)
            cells = []
            for multiple in PRE_MULTIPLES:
                x = spend(at - 7 * multiple, at)
                past = Moments(
                    members, y.sum(), (y * y).sum(), x.sum(), (x * x).sum(), (x * y).sum(),
                    w.sum(), (w * w).sum(),
                )  # fmt: skip
                ratio = math.sqrt(residual_variance(past) / past.sample().variance)
                cells.append(f"{ratio:.2f}")
            name = url.rsplit("/", 1)[-1]
            lines.append(f"| {name} ({start:%Y-%m-%d}) | {label} | {' | '.join(cells)} |")
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
    x, y0, y1, w = (a.reshape(campaigns, audience) for a in (d.x, d.y0, d.y1, d.w))
    held = rng.random((campaigns, audience)) < holdout / 100
    recipients, buyers_t = _moments(~held, x, y1, w)
    holdouts, buyers_c = _moments(held, x, y0, w)
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
    parser.add_argument(
        "--demo", action="append", default=[], help="a built demo shop's database URL (repeat)"
    )
    args = parser.parse_args(argv)
    if args.demo:
        print("\n".join(demo_shop(args.demo)), end="\n\n")
    print("\n".join(demo_bound(args.members, args.seed)), end="\n\n")
    print("\n".join(week_covariates(args.members, args.seed)), end="\n\n")
    print("\n".join(week_caps(args.members, args.seed)), end="\n\n")
    print("\n".join(small_sample(args.campaigns, args.seed)))


if __name__ == "__main__":
    main()
