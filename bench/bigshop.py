"""The big shop: 1M members / 10M sales through the generator's bulk path, on SQLite and PostgreSQL.

    python -m bench.bigshop [--quick] [--members N --sales-per-member M] [--database-url URL]…

Builds (or reuses, see :mod:`bench.data_shop`) the shop and reports its load: rows/s and total
time, index build time. The targets are side by side on the same fresh database: the bulk path
(``COPY`` / driver ``executemany``) against SQLAlchemy Core ``insert()`` executemany of the
same generated rows, and loading without indexes then building them against loading with them.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bench.cli_support import databases, shop_args, shop_parser, shop_size
from bench.data_shop import MONTHS, NOW, ShopSize, build_shop, create_database, scratch_url
from bench.report import Target, publish
from storage.bulk import bulk_insert, create_indexes, drop_indexes, secondary_indexes
from storage.db import create_engine, is_sqlite
from storage.migrate import upgrade
from storage.models import ChannelIdentity, Consent, Member, PointsEntry, Sale, table_of
from storage.synthetic import ensure_branches
from storage.synthetic.rows import MemberRows, Row, generate_members

Loader = Callable[[AsyncConnection, Table, Sequence[Row]], Awaitable[None]]
BATCH = 5_000
#: members loaded by each side of the side-by-side comparisons (quick form, full form)
COMPARED_MEMBERS = (500, 20_000)


async def core_insert(connection: AsyncConnection, table: Table, rows: Sequence[Row]) -> None:
    """The baseline: SQLAlchemy Core ``insert()`` executemany."""
    await connection.execute(insert(table), list(rows))


def _tables(chunk: Sequence[MemberRows]) -> list[tuple[Table, list[Row]]]:
    def flat(pick: Callable[[MemberRows], list[Row]]) -> list[Row]:
        return [row for rows in chunk for row in pick(rows)]

    return [
        (table_of(Member), [rows.member for rows in chunk]),
        (table_of(ChannelIdentity), [rows.identity for rows in chunk]),
        (table_of(Consent), flat(lambda r: r.consents)),
        (table_of(PointsEntry), flat(lambda r: r.points)),
        (table_of(Sale), flat(lambda r: r.sales)),
        (table_of(PointsEntry), flat(lambda r: r.sale_points)),
    ]


async def _fresh_engine(base_url: str, name: str) -> AsyncEngine:
    url = scratch_url(base_url, name)
    await create_database(url, fresh=True)
    engine = create_engine(url)
    await upgrade(engine)
    return engine


async def timed_load(
    base_url: str, name: str, members: int, loader: Loader, *, indexes_after: bool = False
) -> tuple[int, float]:
    """(rows, seconds) to load ``members`` generated members into a fresh database with
    ``loader`` (row generation is done before the clock starts)."""
    engine = await _fresh_engine(base_url, name)
    try:
        branch_ids = await ensure_branches(engine)
        rows = list(
            generate_members(
                random.Random(7), count=members, months=MONTHS, now=NOW, branch_ids=branch_ids
            )
        )
        batches = [(t, r[i : i + BATCH]) for t, r in _tables(rows) for i in range(0, len(r), BATCH)]
        indexes = secondary_indexes([table for table, _ in _tables(rows[:1])])
        began = time.perf_counter()
        if indexes_after:
            async with engine.begin() as connection:
                await drop_indexes(connection, indexes)
        async with engine.begin() as connection:
            for table, batch in batches:
                await loader(connection, table, batch)
        if indexes_after:
            async with engine.begin() as connection:
                await create_indexes(connection, indexes)
        return sum(len(b) for _, b in batches), time.perf_counter() - began
    finally:
        await engine.dispose()


async def _compare(base_url: str, dialect: str, members: int) -> list[Target]:
    core_rows, core_s = await timed_load(base_url, "cmp_core", members, core_insert)
    bulk_rows, bulk_s = await timed_load(base_url, "cmp_bulk", members, bulk_insert)
    after_rows, after_s = await timed_load(
        base_url, "cmp_after", members, bulk_insert, indexes_after=True
    )
    return [
        Target(
            f"{dialect}: bulk path ÷ Core executemany ({members:,} members)",
            bulk_rows / bulk_s,
            core_rows / core_s,
            "rows/s",
            1.0,
            note=f"{bulk_rows:,} rows in {bulk_s:.2f} s vs {core_s:.2f} s",
        ),
        Target(
            f"{dialect}: indexes built after ÷ kept during the load",
            after_rows / after_s,
            bulk_rows / bulk_s,
            "rows/s",
            1.0,
            note=f"{after_s:.2f} s vs {bulk_s:.2f} s",
        ),
    ]


def _build_alone(base_url: str, size: ShopSize) -> None:
    """Builds (or finds built) the shop on one database, in a process of its own."""

    async def build() -> None:
        engine, _ = await build_shop(base_url, size, verbose=True)
        await engine.dispose()

    asyncio.run(build())


async def build_side_by_side(urls: Sequence[str], size: ShopSize) -> float:
    """The shops of several databases built at once, each by a process of its own (generating
    the rows is Python and takes a core; the other database's work fills the rest); seconds."""
    began = time.perf_counter()
    loop = asyncio.get_running_loop()
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(len(urls), mp_context=spawn) as pool:
        await asyncio.gather(*(loop.run_in_executor(pool, _build_alone, u, size) for u in urls))
    return time.perf_counter() - began


async def main(args: argparse.Namespace) -> None:
    targets: list[Target] = []
    extra: dict[str, Any] = {}
    urls = [base_url async for base_url, _ in databases(args)]
    if not args.quick and len(urls) > 1:
        wall = await build_side_by_side(urls, shop_size(args))
        extra["side_by_side_wall_s"] = round(wall, 1)
        print(f"  {len(urls)} shops built or found side by side in {wall:.1f} s")
    for base_url in urls:
        dialect = "sqlite" if is_sqlite(base_url) else "postgresql"
        targets += await _compare(base_url, dialect, COMPARED_MEMBERS[0 if args.quick else 1])
        engine, built = await build_shop(
            base_url, shop_size(args), fresh=args.quick, verbose=not args.quick
        )
        await engine.dispose()
        extra[dialect] = {
            "members": built.members,
            "sales": built.sales,
            "rows": built.rows,
            "load_s": round(built.load_seconds, 1),
            "index_s": round(built.index_seconds, 1),
            "rows_per_s": round(built.rows_per_second),
            "reused_cache": built.reused,
        }
        state = "reused from cache, built in" if built.reused else "built in"
        print(
            f"  {dialect}: {built.members:,} members / {built.sales:,} sales "
            f"({built.rows:,} rows) {state} {built.load_seconds:.1f} s + indexes "
            f"{built.index_seconds:.1f} s = {built.rows_per_second:,.0f} rows/s"
        )
    publish("bigshop", targets, quick=args.quick, extra=extra)


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    return shop_args(shop_parser("bigshop", __doc__), argv)


if __name__ == "__main__":
    asyncio.run(main(parse()))
