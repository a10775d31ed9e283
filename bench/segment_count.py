"""Segment counts: our compiled query ÷ the best hand-written SQL for the same rule, same data.

    python -m bench.segment_count [--quick] [--database-url URL]…

Full form on the 1M-member / 10M-sale shop of :mod:`bench.bigshop` (built or reused), quick
form on a 2k-member shop. For each representative rule the hand-written SQL comes in the
variants a careful person would try (correlated EXISTS, IN over a grouped scan…); the baseline
is the fastest of them, and every variant must give our count (checked, or the run fails).
Each query runs ``--repeat`` times after a warm-up, interleaved with the others; the
fastest run counts (the least disturbed by whatever else the machine is doing). A variant more
than three times slower than the fastest query in the warm-up keeps its warm-up time.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.cli_support import databases, shop_args, shop_parser, shop_size, shown
from bench.data_segments import hand_variants
from bench.data_shop import NOW, build_shop
from bench.report import Target, publish
from storage.segments import SegmentEnv, compile_rule, count_query, parse_rule

TZ = ZoneInfo("Asia/Bangkok")

#: (label, rule): the representative rules of the segment language
RULES: tuple[tuple[str, str], ...] = (
    ("branch + visits", "branch in (asoke, sukhumvit) and visits_90d >= 2"),
    ("last visit", "last_visit_days > 60"),
    ("total spend", "spend >= 2000"),
    ("weekday/hour", "weekday in (sat, sun) and hour >= 17"),
    ("birth month", "birth_month = 3"),
    ("tier", "tier >= silver"),
    ("points + tag", "points >= 200 and tag != vip"),
)


def env() -> SegmentEnv:
    return SegmentEnv(now=NOW, tz=TZ)


#: a hand-written variant slower than this many times the fastest query in the warm-up round
#: is not timed again: it cannot become the baseline, and timing it would dominate the run
HOPELESS = 3.0


async def interleaved(
    engine: AsyncEngine, queries: dict[str, tuple[Any, dict[str, Any]]], repeat: int
) -> dict[str, tuple[int, float]]:
    """(count, fastest seconds) of each query: one warm-up round, then ``repeat`` rounds that
    run every query in turn, so load from elsewhere on the machine hits all of them alike.
    Hopeless hand-written variants keep their warm-up time."""
    counts: dict[str, int] = {}
    best: dict[str, float] = {}
    async with engine.connect() as connection:
        for name, (query, params) in queries.items():
            began = time.perf_counter()
            counts[name] = int((await connection.execute(query, params)).scalar_one())
            best[name] = time.perf_counter() - began
        fastest = min(best.values())
        timed = {
            name: query
            for name, query in queries.items()
            if name == "ours" or best[name] <= HOPELESS * fastest
        }
        if repeat:
            best |= dict.fromkeys(timed, float("inf"))
        for _ in range(repeat):
            for name, (query, params) in timed.items():
                began = time.perf_counter()
                await connection.execute(query, params)
                best[name] = min(best[name], time.perf_counter() - began)
    return {name: (counts[name], best[name]) for name in queries}


async def measure_rule(
    engine: AsyncEngine, dialect: str, label: str, rule: str, repeat: int
) -> tuple[Target, dict[str, Any]]:
    ours: Select[Any] = count_query(compile_rule(parse_rule(rule), env()))
    queries: dict[str, tuple[Any, dict[str, Any]]] = {"ours": (ours, {})}
    for variant in hand_variants(label, dialect):
        queries[variant.name] = (text(variant.sql), variant.params)
    results = await interleaved(engine, queries, repeat)
    our_count, our_s = results.pop("ours")
    for name, (count, _) in results.items():
        if count != our_count:
            raise AssertionError(f"{label} / {name}: {count} != ours {our_count}")
    best_name = min(results, key=lambda name: results[name][1])
    target = Target(
        f"{dialect}: {label} ({rule})",
        our_s * 1000,
        results[best_name][1] * 1000,
        "ms",
        1.25,
        "<=",
        note=f"{our_count:,} members; best hand SQL: {best_name}",
    )
    figures = {f"hand_{name}_ms": round(s * 1000, 1) for name, (_, s) in results.items()}
    return target, {"rule": rule, "count": our_count, "ours_ms": round(our_s * 1000, 1)} | figures


async def main(args: argparse.Namespace) -> None:
    targets: list[Target] = []
    extra: dict[str, Any] = {}
    repeat = args.repeat or (1 if args.quick else 3)
    async for base_url, _ in databases(args):
        engine, built = await build_shop(base_url, shop_size(args))
        try:
            for label, rule in RULES:
                if args.only and label not in args.only:
                    continue
                target, figures = await measure_rule(engine, built.dialect, label, rule, repeat)
                targets += shown([target])
                extra[f"{built.dialect}: {label}"] = figures
        finally:
            await engine.dispose()
        extra[f"{built.dialect} shop"] = f"{built.members:,} members / {built.sales:,} sales"
    publish("segment_count", targets, quick=args.quick, extra=extra)


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = shop_parser("segment_count", __doc__)
    parser.add_argument("--repeat", type=int, help="timed rounds (default 3, quick 1)")
    parser.add_argument("--only", action="append", help="a rule's label (repeatable)")
    return shop_args(parser, argv)


if __name__ == "__main__":
    asyncio.run(main(parse()))
