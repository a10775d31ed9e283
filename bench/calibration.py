"""Calibration of the /stats uplift interval on simulated campaigns with a known true effect.

    python -m bench.calibration [--quick] [--seed N]

Full form 1,000 campaigns (audiences 60–2,000, hold-out 5–50%, heavy-tailed spend; see
:mod:`simulator.calibration`), quick form 100, in a scratch SQLite file. Targets: coverage of
the true effect by the reported 95% intervals ÷ 0.95 ≥ 0.9/0.95, and the share of zero-effect
campaigns read as "no detectable effect" (or "too few") ÷ 0.95 ≥ 0.9/0.95. Also printed: the
same campaigns judged by alternative intervals (Welch with stricter "too few" rules, the
larger variance) and coverage per audience size: the evidence for the method the product uses.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.report import Target, publish
from shop.campaigns.uplift import (
    MIN_MEMBERS,
    Z_975,
    Estimate,
    Verdict,
    mean_difference,
    t_quantile_975,
    too_few,
    welch_df,
)
from simulator.calibration import Trial, coverage, run_calibration, scenarios
from storage.db import create_engine, session_factory
from storage.migrate import upgrade
from storage.uow import UnitOfWork


def _estimate(difference: float, half: float) -> Estimate:
    low, high = difference - half, difference + half
    verdict = Verdict.UP if low > 0 else Verdict.DOWN if high < 0 else Verdict.NO_EFFECT
    return Estimate(difference, low, high, verdict)


def alternative(
    spread: str, min_members: int = MIN_MEMBERS, min_group_converters: int = 0
) -> Callable[[Trial], Estimate]:
    """An interval from the same aggregates /stats reads: ``spread`` is ``welch`` (each
    group's own variance), ``larger`` (the larger of the two for both) or ``pooled`` (what
    the product reports), "too few" below the given per-group minimums."""

    def method(trial: Trial) -> Estimate:
        r, h = trial.stats.recipients, trial.stats.holdout
        treated, control = r.revenue_sample(), h.revenue_sample()
        difference = treated.mean - control.mean
        few = too_few(treated.n, control.n, r.converters + h.converters)
        few = few or min(treated.n, control.n) < min_members
        if few or min(r.converters, h.converters) < min_group_converters:
            return Estimate(difference, math.nan, math.nan, Verdict.TOO_FEW)
        if spread == "pooled":
            return mean_difference(treated, control, r.converters + h.converters)
        if spread == "larger":
            v = max(treated.variance, control.variance)
            se, t = math.sqrt(v / treated.n + v / control.n), Z_975
        else:
            se = math.sqrt(treated.variance / treated.n + control.variance / control.n)
            t = t_quantile_975(welch_df(treated, control))
        return _estimate(difference, t * se)

    return method


ALTERNATIVES: dict[str, Callable[[Trial], Estimate]] = {
    "pooled (reported), ≥30 members, ≥5 buyers": alternative("pooled"),
    "welch, ≥30 members, ≥5 buyers": alternative("welch"),
    "welch, ≥30 members, ≥10 buyers per group": alternative("welch", 30, 10),
    "welch, ≥50 members, ≥5 buyers": alternative("welch", 50),
    "welch, ≥100 members, ≥5 buyers": alternative("welch", 100),
    "larger variance, ≥30 members, ≥5 buyers": alternative("larger"),
}


def detected(trials: list[Trial], method: Callable[[Trial], Estimate]) -> float:
    """Share of campaigns with a real effect whose interval excludes 0 on the right side."""
    real = [t for t in trials if t.true_effect != 0]
    hits = 0
    for trial in real:
        estimate = method(trial)
        hits += (estimate.verdict is Verdict.UP and trial.true_effect > 0) or (
            estimate.verdict is Verdict.DOWN and trial.true_effect < 0
        )
    return hits / len(real) if real else math.nan


async def measure(count: int, seed: int) -> tuple[list[Trial], float]:
    with tempfile.TemporaryDirectory() as folder:
        engine = create_engine(f"sqlite+aiosqlite:///{Path(folder) / 'calibration.db'}")
        try:
            await upgrade(engine)
            sessions = session_factory(engine)
            began = time.perf_counter()
            trials = await run_calibration(
                lambda: UnitOfWork(sessions), scenarios(count, seed), seed
            )
            return trials, time.perf_counter() - began
        finally:
            await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    count = 100 if args.quick else 1000
    trials, seconds = asyncio.run(measure(count, args.seed))
    product = coverage(trials)
    extra: dict[str, object] = {"campaigns": count, "seconds": round(seconds, 1)}
    for name, method in ALTERNATIVES.items():
        c = coverage(trials, method)
        extra[name] = {
            "coverage": round(c.coverage, 3),
            "with_interval": c.with_interval,
            "zero_quiet": round(c.zero_quiet_rate, 3),
            "detected": round(detected(trials, method), 3),
        }
        print(
            f"  {name}: coverage {c.coverage:.3f} of {c.with_interval} intervals, "
            f"zero effect quiet {c.zero_quiet_rate:.3f}, "
            f"real effects detected {detected(trials, method):.3f}"
        )
    for audience in sorted({t.scenario.audience for t in trials}):
        c = coverage([t for t in trials if t.scenario.audience == audience])
        extra[f"audience {audience}"] = [round(c.coverage, 3), c.with_interval]
        print(f"  audience {audience}: coverage {c.coverage:.3f} of {c.with_interval} intervals")
    targets = [
        Target(
            "95% interval covers the true uplift",
            product.coverage,
            0.95,
            "share",
            0.9 / 0.95,
            note=f"{product.with_interval} of {count} campaigns reported an interval",
        ),
        Target(
            "zero effect read as no detectable effect",
            product.zero_quiet_rate,
            0.95,
            "share",
            0.9 / 0.95,
            note=f"{product.zero_effect} zero-effect campaigns; {seconds:.1f} s in all",
        ),
    ]
    publish("calibration", targets, quick=args.quick, extra=extra)


if __name__ == "__main__":
    main()
