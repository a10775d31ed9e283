"""Calibration of the /stats uplift intervals on simulated campaigns with a known true effect.

    python -m bench.calibration [--quick] [--seed N] [--campaigns N]

The grid: 4 populations × 5 effects (:mod:`bench.calibration_models`) × audiences 200, 1,000
and 10,000 × hold-outs 5, 10 and 20%: 180 cells, 1,000 simulated campaigns each in the full
form (``--campaigns``), 40 in the quick form. For each campaign the members are split by lot
(each one held out with the hold-out probability, as ``shop.campaigns.launch.in_holdout``
does), each group is reduced to the aggregates ``/stats`` reads from SQL (count, sums of
``y``, ``y²``, ``x``, ``x²``, ``x·y``, converters), and the SAME functions ``/stats`` calls
(:mod:`shop.campaigns.uplift`) give the intervals. The members of a campaign are drawn once and
split three times (once per hold-out share): the cells of one audience share draws.

Reported per cell: the share of campaigns that got an interval ("too few to tell" is the
rest, never counted as quiet), coverage of the true revenue and conversion effect among those,
and for zero-effect cells the false-positive rate (intervals excluding 0, among those with an
interval). Also the same for the candidate intervals that were not chosen.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import numpy as np

from bench.calibration_models import EFFECTS, POPULATIONS, Array, draw, true_effects
from bench.report import Target, publish
from shop.campaigns.uplift import (
    HISTORY_MULTIPLE,
    Estimate,
    Moments,
    Verdict,
    adjusted_difference,
    adjusted_errors,
    mean_difference,
    proportion_difference,
    t_quantile_975,
    too_few,
)

AUDIENCES: Final = (200, 1000, 10_000)
HOLDOUTS: Final = (5, 10, 20)
BLOCK_MEMBERS: Final = 2_000_000
#: a cell's coverage is judged from this many intervals on (with 25 the coverage's own
#: standard error is 0.044: one miss more or less moves it across the target)
MIN_JUDGED: Final = 100
Method = Callable[[Moments, Moments, int], Estimate]


def _interval(difference: float, half: float) -> Estimate:
    low, high = difference - half, difference + half
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


#: the product's interval first; the rest are the candidates it was chosen against
REVENUE_METHODS: Final[dict[str, Method]] = {
    "adjusted, largest of three errors (product)": adjusted_difference,
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


@dataclass
class Tally:
    """How one method's intervals did in one cell."""

    campaigns: int = 0
    with_interval: int = 0
    covered: int = 0
    detected: int = 0  # the interval excludes 0
    above: int = 0  # the whole interval lies above the truth
    width: float = 0.0  # the intervals' widths added up

    def add(self, estimate: Estimate, truth: float) -> None:
        self.campaigns += 1
        if estimate.verdict is Verdict.TOO_FEW:
            return
        self.with_interval += 1
        self.covered += estimate.low <= truth <= estimate.high
        self.width += estimate.high - estimate.low
        self.above += estimate.low > truth
        self.detected += estimate.verdict is not Verdict.NO_EFFECT

    def row(self) -> dict[str, float]:
        shown = self.with_interval
        return {
            "campaigns": self.campaigns,
            "interval_share": shown / self.campaigns if self.campaigns else math.nan,
            "coverage": self.covered / shown if shown else math.nan,
            "detected": self.detected / shown if shown else math.nan,
            "above": self.above / shown if shown else math.nan,
        }


@dataclass
class Cell:
    population: str
    effect: str
    audience: int
    holdout: int
    truth: tuple[float, float]
    revenue: dict[str, Tally] = field(default_factory=dict)
    conversion: dict[str, Tally] = field(default_factory=dict)


def _moments(
    mask: Array, x: Array, y: Array, w: Array | None = None
) -> tuple[list[Moments], Array]:
    """Per campaign (row), the group's moments (``w``: the same-length earlier window, when
    ``x`` is a longer history) and its converters."""
    m = mask.astype(np.float64)
    same = x if w is None else w
    sums = [m.sum(1), (m * y).sum(1), (m * y * y).sum(1), (m * x).sum(1)]
    sums += [(m * x * x).sum(1), (m * x * y).sum(1), (m * same).sum(1), (m * same * same).sum(1)]
    rows = zip(*(s.tolist() for s in sums), strict=True)
    moments = [Moments(int(n), *values) for n, *values in rows]
    return moments, (m * (y > 0)).sum(1)


#: the candidate adjusted on the same-length earlier window alone (the product before the
#: longer history), computed from its own moments
MATCHING: Final = "adjusted on the matching window only, largest of three (before)"


def _judge_matching(cell: Cell, held: Array, w: Array, y: Array) -> None:
    recipients, buyers_t = _moments(~held, w, y)
    holdout, buyers_c = _moments(held, w, y)
    tally = cell.revenue.setdefault(MATCHING, Tally())
    for k, (treated, control) in enumerate(zip(recipients, holdout, strict=True)):
        converters = int(buyers_t[k] + buyers_c[k])
        tally.add(adjusted_difference(treated, control, converters), cell.truth[0])


def _judge(cell: Cell, recipients: list[Moments], holdout: list[Moments], buyers: Array) -> None:
    revenue, conversion = cell.truth
    for k, (treated, control) in enumerate(zip(recipients, holdout, strict=True)):
        hits_t, hits_c = int(buyers[0][k]), int(buyers[1][k])
        for name, method in REVENUE_METHODS.items():
            cell.revenue.setdefault(name, Tally()).add(
                method(treated, control, hits_t + hits_c), revenue
            )
        newcombe = proportion_difference(hits_t, treated.n, hits_c, control.n)
        cell.conversion.setdefault("newcombe (product)", Tally()).add(newcombe, conversion)
        normal = normal_proportion(hits_t, treated.n, hits_c, control.n)
        cell.conversion.setdefault("normal (before)", Tally()).add(normal, conversion)


#: the capping candidate: each member's revenue (and earlier revenue) capped at this quantile
#: of the campaign's pooled values, then the product's interval, judged against the true
#: effect on uncapped revenue (what the owner is told about)
CAP_QUANTILE: Final = 0.99
CAPPED: Final = "capped at the pooled 99th percentile, adjusted, largest of three"


def _judge_capped(cell: Cell, held: Array, x: Array, y: Array, w: Array) -> None:
    cap = np.quantile(np.concatenate([w, y], axis=1), CAP_QUANTILE, axis=1)[:, None]
    xc, yc, wc = np.minimum(x, HISTORY_MULTIPLE * cap), np.minimum(y, cap), np.minimum(w, cap)
    recipients, buyers_t = _moments(~held, xc, yc, wc)
    holdout, buyers_c = _moments(held, xc, yc, wc)
    tally = cell.revenue.setdefault(CAPPED, Tally())
    for k, (treated, control) in enumerate(zip(recipients, holdout, strict=True)):
        converters = int(buyers_t[k] + buyers_c[k])
        tally.add(adjusted_difference(treated, control, converters), cell.truth[0])


def run_cells(
    population: str,
    effect: str,
    audience: int,
    campaigns: int,
    truth: tuple[float, float],
    rng: np.random.Generator,
) -> list[Cell]:
    """The three hold-out cells of one population, effect and audience."""
    cells = [Cell(population, effect, audience, h, truth) for h in HOLDOUTS]
    block = max(1, min(campaigns, BLOCK_MEMBERS // audience))
    done = 0
    while done < campaigns:
        rows = min(block, campaigns - done)
        d = draw(population, effect, rng, rows * audience)
        x, y0, y1, w = (a.reshape(rows, audience) for a in (d.x, d.y0, d.y1, d.w))
        for cell in cells:
            held = rng.random((rows, audience)) < cell.holdout / 100
            recipients, buyers_t = _moments(~held, x, y1, w)
            holdout, buyers_c = _moments(held, x, y0, w)
            _judge(cell, recipients, holdout, np.stack([buyers_t, buyers_c]))
            y = np.where(held, y0, y1)
            _judge_capped(cell, held, x, y, w)
            _judge_matching(cell, held, w, y)
        done += rows
    return cells


PRODUCT: Final = "adjusted, largest of three errors (product)"
CONVERSION: Final = "newcombe (product)"


def _fmt(value: float) -> str:
    return "—" if math.isnan(value) else f"{value:.3f}"


def table(cells: list[Cell]) -> list[str]:
    """The per-cell markdown table of the product's intervals."""
    lines = [
        "| population | effect | audience | hold-out | with interval | revenue coverage | "
        "above truth | conversion coverage | false positives (revenue / conversion) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for cell in cells:
        rev, conv = cell.revenue[PRODUCT].row(), cell.conversion[CONVERSION].row()
        zero = cell.effect == "none"
        fp = f"{_fmt(rev['detected'])} / {_fmt(conv['detected'])}" if zero else ""
        lines.append(
            f"| {cell.population} | {cell.effect} | {cell.audience:,} | {cell.holdout}% | "
            f"{_fmt(rev['interval_share'])} | {_fmt(rev['coverage'])} | {_fmt(rev['above'])} | "
            f"{_fmt(conv['coverage'])} | {fp} |"
        )
    return lines


def _judged(cells: list[Cell]) -> int:
    """The intervals a cell needs to be judged: :data:`MIN_JUDGED`, or half the campaigns of
    a smaller (quick) run."""
    return min(MIN_JUDGED, cells[0].revenue[PRODUCT].campaigns // 2)


def worst(cells: list[Cell], kind: str, name: str) -> tuple[float, float]:
    """(lowest coverage, highest zero-effect false positives) over the cells with at least
    :func:`_judged` intervals."""
    coverage, false_positive, least = math.inf, 0.0, _judged(cells)
    for cell in cells:
        tally = getattr(cell, kind)[name]
        if tally.with_interval < least:
            continue
        row = tally.row()
        if not math.isnan(row["coverage"]):
            coverage = min(coverage, row["coverage"])
        if cell.effect == "none" and not math.isnan(row["detected"]):
            false_positive = max(false_positive, row["detected"])
    return coverage, false_positive


def summary(cells: list[Cell]) -> list[str]:
    """The worst cells of every interval, and its mean width against the product's (the
    median over the cells where both gave intervals)."""
    lines = [
        "| interval | lowest coverage | highest false-positive rate | width ÷ product's |",
        "|---|---|---|---|",
    ]
    revenue = [*REVENUE_METHODS, MATCHING, CAPPED]
    for kind, names in (("revenue", revenue), ("conversion", list(cells[0].conversion))):
        base = PRODUCT if kind == "revenue" else CONVERSION
        for name in names:
            coverage, fp = worst(cells, kind, name)
            ratios = [
                (t.width / t.with_interval) / (b.width / b.with_interval)
                for t, b in ((getattr(c, kind)[name], getattr(c, kind)[base]) for c in cells)
                if t.with_interval and b.with_interval and b.width > 0
            ]
            width = f"{float(np.median(ratios)):.2f}" if ratios else "—"
            lines.append(f"| {kind}: {name} | {coverage:.3f} | {fp:.3f} | {width} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--campaigns", type=int, default=None, help="per cell")
    parser.add_argument("--out", type=Path, default=None, help="write the tables here")
    args = parser.parse_args()
    campaigns = args.campaigns or (40 if args.quick else 1000)
    truth_members = 2_000_000 if args.quick else 20_000_000
    rng = np.random.default_rng(args.seed)
    began = time.perf_counter()
    cells: list[Cell] = []
    for p, population in enumerate(POPULATIONS):
        for e, effect in enumerate(EFFECTS):
            truth = true_effects(population, effect, truth_members, args.seed * 100 + p * 10 + e)
            if effect == "none":
                truth = (0.0, 0.0)  # exactly, by construction
            for audience in AUDIENCES:
                cells += run_cells(population, effect, audience, campaigns, truth, rng)
            print(f"  {population} {effect}: truth {truth[0]:.2f} ฿, {truth[1]:.4f}", flush=True)
    seconds = time.perf_counter() - began
    text = [f"{campaigns} campaigns per cell, seed {args.seed}, {seconds:.0f} s", ""]
    text += [*summary(cells), "", *table(cells)]
    print("\n".join(text))
    if args.out:
        args.out.write_text("\n".join(text) + "\n", encoding="utf-8")
    coverage, fp = worst(cells, "revenue", PRODUCT)
    conv_coverage, conv_fp = worst(cells, "conversion", CONVERSION)
    extra = {
        "campaigns_per_cell": campaigns,
        "seconds": round(seconds, 1),
        "cells": [
            {"cell": [c.population, c.effect, c.audience, c.holdout]}
            | {"revenue": c.revenue[PRODUCT].row(), "conversion": c.conversion[CONVERSION].row()}
            for c in cells
        ],
    }
    json.dumps(extra)  # fail here, not in publish, on anything unserialisable
    targets = [
        Target("lowest revenue coverage in any cell ≥ 0.93", coverage, 1.0, "share", 0.93),
        Target("lowest conversion coverage in any cell ≥ 0.93", conv_coverage, 1.0, "share", 0.93),
        Target(
            "highest zero-effect false positives ≤ 0.06 (revenue)", fp, 1.0, "share", 0.06, "<="
        ),
        Target(
            "highest zero-effect false positives ≤ 0.06 (conversion)",
            conv_fp,
            1.0,
            "share",
            0.06,
            "<=",
        ),
    ]
    publish("calibration", targets, quick=args.quick, extra=extra)


if __name__ == "__main__":
    main()
