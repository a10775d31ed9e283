"""How every benchmark states its result: a measured figure, its baseline, their ratio, a target.

A benchmark never asserts on time. It prints one line per target (human-readable) and, last,
one JSON line (``BENCH {...}``) that ``bench/run`` collects for ``bench/RESULTS.md``.
"""

from __future__ import annotations

import json
import os
import platform
import sys
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Literal

Direction = Literal[">=", "<="]


@dataclass(frozen=True, slots=True)
class Target:
    """One measured ratio against its target, e.g. ``accepted/s ÷ allowed/s >= 0.95``."""

    name: str
    measured: float
    baseline: float
    unit: str
    target: float
    direction: Direction = ">="
    note: str = ""

    @property
    def ratio(self) -> float:
        return self.measured / self.baseline if self.baseline else float("inf")

    @property
    def met(self) -> bool:
        return self.ratio >= self.target if self.direction == ">=" else self.ratio <= self.target

    def line(self) -> str:
        verdict = "met" if self.met else "MISSED"
        text = (
            f"{self.name}: {self.measured:,.3f} / {self.baseline:,.3f} {self.unit} = "
            f"ratio {self.ratio:.3f} (target {self.direction} {self.target}) {verdict}"
        )
        return f"{text} — {self.note}" if self.note else text


def machine() -> str:
    """Where the numbers were measured: date, CPU count, Python and OS."""
    return (
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}"
    )


def publish(
    bench: str, targets: list[Target], *, quick: bool, extra: dict[str, object] | None = None
) -> None:
    """Print every target, then the machine-readable line; exit status is always 0 (no timing
    assertion: CI checks that benchmarks run, people read the ratios)."""
    print(f"== {bench} ({'quick' if quick else 'full'}) — {machine()}")
    for target in targets:
        print("  " + target.line())
    payload = {
        "bench": bench,
        "quick": quick,
        "machine": machine(),
        "targets": [asdict(t) | {"ratio": t.ratio, "met": t.met} for t in targets],
        "extra": extra or {},
    }
    print("BENCH " + json.dumps(payload, ensure_ascii=False, default=str))
    sys.stdout.flush()
