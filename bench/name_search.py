"""Member search by a part of the name: the search key (invisible characters dropped, letters
lower-cased, :mod:`storage.name_search`) ÷ the plain ``lower(name) LIKE`` it replaced.

    python -m bench.name_search [--members N] [--rounds R] [--database-url postgresql://…]

A name that matches nobody makes every query read every member (the worst case of
``/customer`` and of the console's search, whose page walks ids until it is full). The table
holds only ids and names (Thai and English; 1 in 100 accented, 1 in 50 with an emoji, 1 in 50
with a zero-width space: 4% get their key made), built once per run; each round runs the
baseline and ours back to back, alternating which goes first. Ours is the SQL
:func:`storage.name_search.name_contains` compiles, for a Thai query and for one with an
accented letter (the same SQL; on SQLite the key is made in Python).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import column, func, select, table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect

from storage.name_search import SQLITE_NAME_KEY, name_contains, search_key

_FIRST = ("สมชาย", "สมหญิง", "พลอย", "มานี", "วิชัย", "John", "Mary", "Anan", "Nok")
_LAST = ("ใจดี", "สุขสันต์", "Smith", "รักไทย", "Wong", "ทองคำ", "Lee")
#: queries that match nobody: every row is read
QUERIES = (("Thai", "ไม่มีใครชื่อนี้"), ("accented", "josé ñoño"))


def names(count: int) -> list[tuple[int, str]]:
    draw = random.Random(42)
    rows = []
    for i in range(1, count + 1):
        first, last = draw.choice(_FIRST), draw.choice(_LAST)
        if i % 100 == 0:  # 1 in 100 foreign with accents, 1 in 50 an emoji or a zero-width space
            first, last = "José", "ÁLVAREZ"
        joint = "\u200b" if i % 50 == 1 else " "
        emoji = " 🧋" if i % 50 == 2 else ""
        rows.append((i, f"{first}{joint}{last}{emoji} {i}"))
    return rows


def statements(dialect: Dialect, typed: str) -> tuple[str, str]:
    """(baseline, ours) for ``typed``, with the pattern written in (no parameters)."""
    members = table("bench_names", column("id"), column("name"))
    old = func.lower(members.c.name).like(f"%{typed.lower()}%")  # the query it replaced
    written = {"literal_binds": True}
    baseline = select(members.c.id).where(old).limit(51)
    ours = select(members.c.id).where(name_contains(members.c.name, typed)).limit(51)
    return (
        str(baseline.compile(dialect=dialect, compile_kwargs=written)),
        str(ours.compile(dialect=dialect, compile_kwargs=written)),
    )


def report(label: str, pairs: list[tuple[float, float]]) -> None:
    print(f" {label}")
    for side, index in (("baseline lower(name) LIKE", 0), ("ours: name key", 1)):
        values = sorted(pair[index] for pair in pairs)
        low, middle, high = values[0], statistics.median(values), values[-1]
        print(f"  {side}: min/median/max {low:.0f} / {middle:.0f} / {high:.0f} ms")
    ratio = statistics.median(p[1] for p in pairs) / statistics.median(p[0] for p in pairs)
    print(f"  ratio ours ÷ baseline (medians): {ratio:.2f}")


async def paired(
    rounds: int, base: Callable[[], Awaitable[float]], ours: Callable[[], Awaitable[float]]
) -> list[tuple[float, float]]:
    pairs = []
    for index in range(rounds):  # alternating which goes first
        if index % 2:
            b_ms = await base()
            pairs.append((b_ms, await ours()))
        else:
            o_ms = await ours()
            pairs.append((await base(), o_ms))
    return pairs


async def sqlite_run(count: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        connection = sqlite3.connect(Path(folder) / "names.db")
        connection.create_function(SQLITE_NAME_KEY, 1, search_key, deterministic=True)
        connection.execute("CREATE TABLE bench_names (id INTEGER PRIMARY KEY, name TEXT)")
        connection.executemany("INSERT INTO bench_names VALUES (?, ?)", names(count))
        connection.commit()

        def timed(sql: str) -> Callable[[], Awaitable[float]]:
            async def run() -> float:
                start = time.perf_counter()
                connection.execute(sql).fetchall()
                return (time.perf_counter() - start) * 1000

            return run

        print(f"SQLite {sqlite3.sqlite_version}, {count:,} members, {rounds} paired rounds")
        for label, typed in QUERIES:
            base, ours = statements(sqlite.dialect(), typed)
            report(f"{label} query", await paired(rounds, timed(base), timed(ours)))


async def postgres_run(url: str, count: int, rounds: int) -> None:
    connection = await asyncpg.connect(url)
    try:
        await connection.execute("DROP TABLE IF EXISTS bench_names")
        await connection.execute("CREATE TABLE bench_names (id bigint PRIMARY KEY, name text)")
        await connection.copy_records_to_table("bench_names", records=names(count))
        await connection.execute("ANALYZE bench_names")

        def timed(sql: str) -> Callable[[], Awaitable[float]]:
            async def run() -> float:
                start = time.perf_counter()
                await connection.fetch(sql)
                return (time.perf_counter() - start) * 1000

            return run

        print(f"PostgreSQL, {count:,} members, {rounds} paired rounds")
        for label, typed in QUERIES:
            base, ours = statements(postgresql.dialect(), typed)  # type: ignore[no-untyped-call]
            report(f"{label} query", await paired(rounds, timed(base), timed(ours)))
    finally:
        await connection.execute("DROP TABLE IF EXISTS bench_names")
        await connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database-url", default="", help="postgresql://… (else SQLite)")
    args = parser.parse_args()
    if args.database_url:
        asyncio.run(postgres_run(args.database_url, args.members, args.rounds))
    else:
        asyncio.run(sqlite_run(args.members, args.rounds))


if __name__ == "__main__":
    main()
