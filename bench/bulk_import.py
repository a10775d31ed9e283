"""``chatcrm import members|sales`` rows/s ÷ SQLAlchemy Core executemany of the same rows.

    python -m bench.bulk_import [--quick] [--rows N] [--database-url URL]…

The bench writes two CSV files (members with an opening points balance; sales of those members,
with points awarded), imports them into a fresh database through the import's own entry points
(:func:`bot.importing.import_members`, :func:`bot.importing.import_sales`, which the CLI calls),
and into a second fresh database stores the very rows the import stored (members and their
opening ledger entries; sales and their points entries, balances kept) with plain Core
``insert()`` executemany, one transaction per batch of the same size. The import also parses,
validates and looks up; the baseline only writes. On PostgreSQL the rows also go in through
``COPY`` (the generator's bulk path) for reference. Full form 50k rows, quick 1k.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import random
import time
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Table, bindparam, insert, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bench.cli_support import database_parser, databases, shown
from bench.data_shop import DATA_DIR, NOW, create_database, scratch_url
from bench.report import Target, publish
from bot.importing import import_members, import_sales
from bot.importing.run import BATCH_SIZE
from storage.bulk import bulk_insert
from storage.db import create_engine, is_sqlite
from storage.migrate import upgrade
from storage.models import Member, PointsEntry, Sale, table_of
from storage.synthetic import ensure_branches
from storage.synthetic.rows import member_code, phone

TZ = ZoneInfo("Asia/Bangkok")
BRANCH_CODES = ("asoke", "sukhumvit", "phetchaburi", "ratchada", "dindaeng")


def points_for(amount: Decimal) -> int:
    return int(amount // 25)


def write_files(rows: int) -> tuple[Path, Path, list[dict[str, Any]], list[dict[str, Any]]]:
    """The two CSV files, and the same data as rows for the baselines."""
    rng = random.Random(5)
    DATA_DIR.mkdir(exist_ok=True)
    members_csv, sales_csv = DATA_DIR / "import_members.csv", DATA_DIR / "import_sales.csv"
    members, sales = [], []
    with members_csv.open("w", newline="", encoding="utf-8") as file:
        out = csv.writer(file)
        out.writerow(["Phone", "Name", "Birthday", "Points", "Branch", "First visit"])
        for i in range(1, rows + 1):
            number = phone(i, "8")
            birthday = (
                f"{rng.randint(1960, 2005)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
            )
            points, branch = rng.randint(0, 400), rng.choice(BRANCH_CODES)
            joined = (NOW - timedelta(days=rng.randint(1, 700))).astimezone(TZ).date()
            out.writerow([number, f"Member {i}", birthday, points, branch, joined.isoformat()])
            members.append({"i": i, "phone": number, "points": points, "branch": branch,
                            "birthday": birthday, "joined": joined})  # fmt: skip
    with sales_csv.open("w", newline="", encoding="utf-8") as file:
        out = csv.writer(file)
        out.writerow(["Receipt", "Date", "Phone", "Net sales", "Store"])
        for i in range(1, rows + 1):
            buyer = members[rng.randrange(len(members))]
            when = (NOW - timedelta(minutes=rng.randint(60, 500_000))).astimezone(TZ)
            amount = Decimal(rng.randint(45, 900))
            out.writerow([f"R{i:08d}", when.strftime("%Y-%m-%d %H:%M"), buyer["phone"], amount,
                          buyer["branch"]])  # fmt: skip
            sales.append({"receipt": f"R{i:08d}", "when": when.replace(second=0),
                "member": buyer["i"], "amount": amount, "branch": buyer["branch"]})  # fmt: skip
    return members_csv, sales_csv, members, sales


async def _fresh(base_url: str, name: str) -> AsyncEngine:
    url = scratch_url(base_url, name)
    await create_database(url, fresh=True)
    engine = create_engine(url)
    await upgrade(engine)
    await ensure_branches(engine)
    return engine


def _stored_rows(
    members: list[dict[str, Any]], sales: list[dict[str, Any]], branch_ids: dict[str, int]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """What the import stores, as rows: members, their opening credits, sales, sale credits."""
    member_rows, opening, sale_rows, earned = [], [], [], []
    for m in members:
        joined = datetime.combine(m["joined"], datetime.min.time(), TZ)
        member_rows.append({"id": m["i"], "member_code": member_code(m["i"]),
            "name": f"Member {m['i']}", "phone": m["phone"],
            "birthday": date.fromisoformat(m["birthday"]), "gender": None,
            "home_branch_id": branch_ids[m["branch"]], "locale": "th", "joined_at": joined,
            "signup_source": "import", "marketing_opt_in": False,
            "points_balance": m["points"], "phone_verified": False})  # fmt: skip
        if m["points"]:
            opening.append({"member_id": m["i"], "delta": m["points"], "reason": "import",
                "idempotency_key": f"import:{m['phone']}", "earned_at": NOW,
                "created_at": NOW})  # fmt: skip
    for sale_id, s in enumerate(sales, start=1):
        sale_rows.append({"id": sale_id, "receipt_no": s["receipt"], "member_id": s["member"],
            "branch_id": branch_ids[s["branch"]], "amount": s["amount"],
            "occurred_at": s["when"], "categories": None, "used_coupon": False,
            "source": "import"})  # fmt: skip
        earned.append({"member_id": s["member"], "delta": points_for(s["amount"]),
            "reason": "sale", "sale_id": sale_id, "idempotency_key": f"sale:{sale_id}",
            "earned_at": s["when"], "created_at": NOW})  # fmt: skip
    return member_rows, opening, sale_rows, earned


async def _baseline(
    engine: AsyncEngine, rows: list[tuple[Table, list[dict[str, Any]]]], *, copy: bool
) -> float:
    """Seconds to store ``rows`` batch by batch (Core executemany, or COPY), a commit each."""
    began = time.perf_counter()
    async with engine.connect() as connection:
        for table, items in rows:
            for start in range(0, len(items), BATCH_SIZE):
                batch = items[start : start + BATCH_SIZE]
                if copy:
                    await bulk_insert(connection, table, batch)
                else:
                    await connection.execute(insert(table), batch)
                if table.name == "points_ledger" and batch[0]["reason"] == "sale":
                    await _credit(connection, batch)
                await connection.commit()
    return time.perf_counter() - began


async def _credit(connection: AsyncConnection, batch: list[dict[str, Any]]) -> None:
    """The cached balances the sale credits move (the import keeps them in step too)."""
    totals: dict[int, int] = {}
    for entry in batch:
        totals[entry["member_id"]] = totals.get(entry["member_id"], 0) + entry["delta"]
    members = table_of(Member)
    await connection.execute(
        update(members)
        .where(members.c.id == bindparam("member"))
        .values(points_balance=members.c.points_balance + bindparam("delta")),
        [{"member": m, "delta": d} for m, d in totals.items()],
    )


async def measure(base_url: str, dialect: str, rows: int) -> tuple[list[Target], dict[str, Any]]:
    members_csv, sales_csv, members, sales = write_files(rows)
    ours = await _fresh(base_url, "import_ours")
    try:
        began = time.perf_counter()
        report = await import_members(ours, members_csv, now=NOW, tz=TZ)
        import_m = time.perf_counter() - began
        assert report.created == rows, report
        began = time.perf_counter()
        report = await import_sales(ours, sales_csv, now=NOW, tz=TZ, points_for=points_for)
        import_s = time.perf_counter() - began
        assert report.created == rows, report
    finally:
        await ours.dispose()
    figures: dict[str, Any] = {"import_members_s": import_m, "import_sales_s": import_s}
    for kind in ("core", "copy") if not is_sqlite(base_url) else ("core",):
        engine = await _fresh(base_url, f"import_{kind}")
        try:
            branch_ids = await ensure_branches(engine)
            member_rows, opening, sale_rows, earned = _stored_rows(members, sales, branch_ids)
            ledger = table_of(PointsEntry)
            copy = kind == "copy"
            m_s = await _baseline(
                engine, [(table_of(Member), member_rows), (ledger, opening)], copy=copy
            )
            s_s = await _baseline(
                engine, [(table_of(Sale), sale_rows), (ledger, earned)], copy=copy
            )
        finally:
            await engine.dispose()
        figures[f"{kind}_members_s"], figures[f"{kind}_sales_s"] = m_s, s_s
    targets = []
    for what, ours_s in (("members", import_m), ("sales", import_s)):
        core_s = figures[f"core_{what}_s"]
        targets.append(Target(f"{dialect}: import {what} ÷ Core executemany ({rows:,} rows)",
            rows / ours_s, rows / core_s, "rows/s", 0.8,
            note=f"{ours_s:.1f} s vs {core_s:.1f} s"))  # fmt: skip
        if f"copy_{what}_s" in figures:
            copy_s = figures[f"copy_{what}_s"]
            targets.append(Target(f"{dialect}: import {what} ÷ COPY (reference)",
                rows / ours_s, rows / copy_s, "rows/s", 0.0,
                note=f"{ours_s:.1f} s vs {copy_s:.1f} s; reported, no target"))  # fmt: skip
    return targets, {f"{dialect}: {k}": round(v, 2) for k, v in figures.items()}


async def main(args: argparse.Namespace) -> None:
    targets: list[Target] = []
    extra: dict[str, Any] = {}
    async for base_url, dialect in databases(args):
        found, figures = await measure(base_url, dialect, args.rows)
        targets += shown(found)
        extra |= figures
    publish("bulk_import", targets, quick=args.quick, extra=extra)


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = database_parser("bulk_import", __doc__, "1k rows")
    parser.add_argument("--rows", type=int)
    args = parser.parse_args(argv)
    if args.rows is None:
        args.rows = 1_000 if args.quick else 50_000
    return args


if __name__ == "__main__":
    asyncio.run(main(parse()))
