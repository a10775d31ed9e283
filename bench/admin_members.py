"""The console's filtered member list: its page and its count ÷ the segment count alone.

    python -m bench.admin_members [--quick] [--members N] [--rounds R] [--only WORD]…
        [--database-url URL]…

What a staff member waits for when they press Filter in /admin/members: the first page of
the rule's members (``storage.console_queries.member_page``, keyset by id, 50 rows) and the
count beside it (``member_count``), each in its own ``UnitOfWork`` at the same time, as the
page runs them (``page_and_count``; when the page's first 10,000 members do not
fill it, the count is ``member_tally``, which brings a small segment's ids for the page). The
baseline is the same rule's count alone as ``/segments`` and a campaign's preview run it
(``count_query(compile_rule(…))``), through a ``UnitOfWork`` too. The page's rule is compiled
for walking (``SegmentEnv.walking``: a total is probed per member read), as the console does.
Each round times the two side by side, in alternating order; the target (≤ 1.25) is on the
medians over the rounds, min/median/max are printed. A deep page (``after`` half-way through
the ids) is measured as well: keyset paging costs there what it costs on the first page.
Two rules match (almost) no one: ``spend >= 100000`` none, ``spend >= 52950`` three members of
the 1M shop (on a smaller shop it matches another number, shown beside the figures).

On the big shop of :mod:`bench.bigshop` (built or reused; full 1M members, quick 2k).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.cli_support import databases, shop_args, shop_parser, shop_size, shown
from bench.data_shop import NOW, build_shop
from bench.report import Target, publish
from storage.console_queries import page_and_count
from storage.db import session_factory
from storage.models import Member
from storage.raw_session import session_of
from storage.segments import SegmentEnv, compile_condition, compile_rule, count_query, parse_rule
from storage.uow import UnitOfWork

TZ: Final = ZoneInfo("Asia/Bangkok")
PAGE: Final = 50

#: (label, rule, deep): rules a shop filters its members by; ``deep`` also pages half-way in
RULES: Final = (
    ("branch + visits", "branch in (asoke, sukhumvit) and visits_90d >= 2", True),
    ("total spend", "spend >= 2000", False),
    ("tier", "tier >= silver", False),
    ("points + tag", "points >= 200 and tag != vip", False),
    ("birth month", "birth_month = 3", False),
    # the walking page finds fewer than a page: it reads every member (see page_and_count)
    ("no one", "spend >= 100000", False),
    ("three members at 1M", "spend >= 52950", False),
)

Timed = Callable[[], Awaitable[int]]


def _env() -> SegmentEnv:
    return SegmentEnv(now=NOW, tz=TZ)


async def _seconds(run: Timed) -> tuple[float, int]:
    began = time.perf_counter()
    value = await run()
    return time.perf_counter() - began, value


def _runs(engine: AsyncEngine, rule: str, after: int) -> tuple[Timed, Timed]:
    """(the console's page + count, the segment count alone), each in its own unit of work."""
    sessions = session_factory(engine)
    parsed = parse_rule(rule)

    async def console() -> int:
        condition = compile_condition(parsed, _env())
        walking = compile_condition(parsed, replace(_env(), walking=True))
        found, size = await page_and_count(
            lambda: UnitOfWork(sessions), None, condition, after, PAGE, walking
        )
        assert len(found.members) <= PAGE
        return size

    async def alone() -> int:
        async with UnitOfWork(sessions, read_only=True) as uow:  # as /segments counts
            query = count_query(compile_rule(parsed, _env()))
            return int((await session_of(uow).execute(query)).scalar_one())

    return console, alone


async def measure(
    engine: AsyncEngine, dialect: str, label: str, rule: str, after: int, rounds: int
) -> tuple[Target, dict[str, Any]]:
    console, alone = _runs(engine, rule, after)
    await console(), await alone()  # warm-up: plans and pages in cache for both
    ours: list[float] = []
    base: list[float] = []
    for index in range(rounds):
        pair = (console, alone) if index % 2 == 0 else (alone, console)
        first, first_count = await _seconds(pair[0])
        second, second_count = await _seconds(pair[1])
        if first_count != second_count:
            raise AssertionError(f"{label}: page's count {first_count} != {second_count}")
        ours.append(first if pair[0] is console else second)
        base.append(second if pair[0] is console else first)
        counted = first_count
    where = "first page" if after == 0 else f"page after id {after:,}"
    target = Target(
        f"{dialect}: members {where} + count ÷ segment count alone — {label} ({rule})",
        statistics.median(ours) * 1000,
        statistics.median(base) * 1000,
        "ms (medians)",
        1.25,
        "<=",
        note=f"{counted:,} members; {rounds} paired rounds; page+count min/median/max "
        f"{min(ours) * 1000:.1f}/{statistics.median(ours) * 1000:.1f}/{max(ours) * 1000:.1f} ms,"
        f" count alone {min(base) * 1000:.1f}/{statistics.median(base) * 1000:.1f}/"
        f"{max(base) * 1000:.1f} ms",
    )
    figures = {"rule": rule, "after": after, "count": counted, "ours_ms": ours, "alone_ms": base}
    return target, figures


async def _middle_id(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        low, high = (
            await connection.execute(select(func.min(Member.id), func.max(Member.id)))
        ).one()
    return (int(low or 0) + int(high or 0)) // 2


async def main(args: argparse.Namespace) -> None:
    targets: list[Target] = []
    extra: dict[str, Any] = {}
    rounds = args.rounds or (3 if args.quick else 5)
    async for base_url, _ in databases(args):
        engine, built = await build_shop(base_url, shop_size(args))
        try:
            middle = await _middle_id(engine)
            for label, rule, deep in RULES:
                if args.only and not any(word in label for word in args.only):
                    continue
                for after in (0, middle) if deep else (0,):
                    target, figures = await measure(
                        engine, built.dialect, label, rule, after, rounds
                    )
                    targets += shown([target])
                    extra[f"{built.dialect}: {label} after {after}"] = figures
        finally:
            await engine.dispose()
        extra[f"{built.dialect} shop"] = f"{built.members:,} members / {built.sales:,} sales"
    publish("admin_members", targets, quick=args.quick, extra=extra)


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = shop_parser("admin_members", __doc__)
    parser.add_argument("--rounds", type=int, help="paired timed rounds (default 5, quick 3)")
    parser.add_argument("--only", action="append", help="rules whose label holds this (repeat)")
    return shop_args(parser, argv)


if __name__ == "__main__":
    asyncio.run(main(parse()))
