"""Event-loop lag while a big segment count or ``/report`` runs ÷ the idle loop's lag.

    python -m bench.loop_lag [--quick] [--database-url URL]…

A ticker sleeps 10 ms again and again and records how late it wakes up. Its p99 lateness is
measured on an idle loop, then while a segment count over the whole shop and then the shop
report (``storage.reports.shop_report``) run on the same loop. Both keep their work in the
database (one aggregate query each, nothing filtered in Python), so the loop should stay free:
asyncpg waits on its socket, aiosqlite on its worker thread (sqlite3 lets go of the GIL while
a statement runs). Full form on the 1M/10M shop of :mod:`bench.bigshop`, quick on 2k members.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from bench.cli_support import databases, shop_args, shop_parser, shop_size, shown
from bench.data_shop import build_shop
from bench.report import Target, publish
from bench.segment_count import env
from storage.db import session_factory
from storage.reports import shop_report
from storage.segments import DEFAULT_TIERS, compile_rule, count_query, parse_rule
from storage.uow import UnitOfWork

TICK = 0.010
RULE = "branch in (asoke, sukhumvit) and visits_90d >= 2"


async def _ticker(lags: list[float], stop: asyncio.Event) -> None:
    while not stop.is_set():
        began = time.perf_counter()
        await asyncio.sleep(TICK)
        lags.append(time.perf_counter() - began - TICK)


def p99(values: Sequence[float]) -> float:
    return statistics.quantiles(values, n=100)[98] if len(values) >= 2 else 0.0


async def lag_during(work: Callable[[], Awaitable[Any]], at_least: float) -> tuple[float, float]:
    """(p99 lag in ms, seconds of work): ``work`` runs again until ``at_least`` seconds passed,
    the ticker all along."""
    lags: list[float] = []
    stop = asyncio.Event()
    ticker = asyncio.create_task(_ticker(lags, stop))
    began = time.perf_counter()
    runs = 0
    while runs == 0 or time.perf_counter() - began < at_least:
        await work()
        runs += 1
    elapsed = (time.perf_counter() - began) / runs
    stop.set()
    await ticker
    return p99(lags) * 1000, elapsed


async def _idle() -> None:
    await asyncio.sleep(0.1)


async def measure(engine: AsyncEngine, dialect: str, seconds: float) -> list[Target]:
    count = count_query(compile_rule(parse_rule(RULE), env()))
    sessions = session_factory(engine)

    async def segment() -> None:
        async with engine.connect() as connection:
            await connection.execute(count)

    async def report() -> None:
        async with UnitOfWork(sessions) as uow:
            await shop_report(uow, env(), Decimal("0.25"), DEFAULT_TIERS)

    idle, _ = await lag_during(_idle, seconds)
    targets = []
    for name, work in (("segment count", segment), ("/report", report)):
        busy, took = await lag_during(work, seconds)
        targets.append(
            Target(
                f"{dialect}: p99 loop lag during {name} ÷ idle",
                busy,
                idle,
                "ms",
                2.0,
                "<=",
                note=f"one {name} takes {took:.2f} s",
            )
        )
    return targets


async def main(args: argparse.Namespace) -> None:
    targets: list[Target] = []
    async for base_url, _ in databases(args):
        engine, built = await build_shop(base_url, shop_size(args))
        try:
            found = await measure(engine, built.dialect, 0.5 if args.quick else 5.0)
        finally:
            await engine.dispose()
        targets += shown(found)
    publish("loop_lag", targets, quick=args.quick)


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    return shop_args(shop_parser("loop_lag", __doc__), argv)


if __name__ == "__main__":
    asyncio.run(main(parse()))
