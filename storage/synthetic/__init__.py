"""A seeded synthetic shop: the demo's data today, the benchmarks' millions of rows later.

Rows come lazily from :mod:`storage.synthetic.rows` and go in through the bulk path of
:mod:`storage.bulk` (``COPY`` on PostgreSQL, the driver's ``executemany`` on SQLite),
one transaction per chunk of members, so memory stays flat whatever the size. Member and sale
ids are assigned here (after the highest existing id) because sales and ledger rows refer to
them; on PostgreSQL the id sequences are moved past them at the end so that later ordinary
inserts do not collide.
"""

from __future__ import annotations

import itertools
import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.bulk import bulk_insert
from storage.models import Branch, ChannelIdentity, Consent, Member, PointsEntry, Sale, table_of
from storage.synthetic.names import BRANCHES
from storage.synthetic.rows import MemberRows, Row, generate_members

#: (stage, done, total): called after every chunk of members
Progress = Callable[[str, int, int], None]

DEFAULT_BATCH: Final = 5_000


@dataclass(frozen=True)
class ShopSummary:
    branches: int
    members: int
    sales: int
    points_entries: int
    lapsed_members: int
    seconds: float


async def _insert(connection: AsyncConnection, table: Table, rows: Sequence[Row]) -> None:
    for start in range(0, len(rows), DEFAULT_BATCH):
        await bulk_insert(connection, table, rows[start : start + DEFAULT_BATCH])


async def ensure_branches(engine: AsyncEngine) -> dict[str, int]:
    """Create the five flagship branches that are missing; return every branch id by code."""
    branches = table_of(Branch)
    async with engine.begin() as connection:
        existing = {code for (code,) in (await connection.execute(select(branches.c.code))).all()}
        missing = [
            {"code": code, "name_th": name_th, "name_en": name_en, "active": True}
            for code, name_th, name_en in BRANCHES
            if code not in existing
        ]
        if missing:
            await connection.execute(insert(branches), missing)
        rows = (await connection.execute(select(branches.c.code, branches.c.id))).all()
    return {code: int(branch_id) for code, branch_id in rows}


async def _next_id(connection: AsyncConnection, table: Table) -> int:
    highest = (await connection.execute(select(func.max(table.c.id)))).scalar_one()
    return int(highest or 0) + 1


async def _write_chunk(connection: AsyncConnection, chunk: Iterable[MemberRows]) -> list[int]:
    members, identities, consents, points, sales, sale_points = [], [], [], [], [], []
    lapsed = 0
    for rows in chunk:
        members.append(rows.member)
        identities.append(rows.identity)
        consents.extend(rows.consents)
        points.extend(rows.points)
        sales.extend(rows.sales)
        sale_points.extend(rows.sale_points)
        lapsed += rows.lapsed
    balances: dict[int, int] = {}
    for entry in itertools.chain(points, sale_points):
        balances[entry["member_id"]] = balances.get(entry["member_id"], 0) + entry["delta"]
    for member in members:  # the cached balance the ledger keeps in step
        member["points_balance"] = balances.get(member["id"], 0)
    # foreign-key order: members before whatever refers to them, sales before their points
    await _insert(connection, table_of(Member), members)
    await _insert(connection, table_of(ChannelIdentity), identities)
    await _insert(connection, table_of(Consent), consents)
    await _insert(connection, table_of(PointsEntry), points)
    await _insert(connection, table_of(Sale), sales)
    await _insert(connection, table_of(PointsEntry), sale_points)
    return [len(members), len(sales), len(points) + len(sale_points), lapsed]


async def _advance_sequences(connection: AsyncConnection) -> None:
    if connection.dialect.name != "postgresql":
        return  # SQLite's INTEGER PRIMARY KEY continues after the highest rowid by itself
    for table in ("members", "sales"):
        await connection.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
            )
        )


async def generate_shop(
    engine: AsyncEngine,
    *,
    members: int = 2000,
    months: int = 6,
    seed: int = 42,
    now: datetime,
    progress: Progress | None = None,
    chunk_members: int = 1_000,
    visit_scale: float = 1.0,
) -> ShopSummary:
    """Add the flagship branches and ``members`` synthetic members with ``months`` of sales.

    Deterministic for a seed on an empty shop. Existing rows are kept: new ids start after
    the highest existing ones. ``progress("members", done, total)`` follows every chunk;
    ``visit_scale`` multiplies the members' visit rates (more sales per member).
    """
    began = time.perf_counter()
    branch_ids = await ensure_branches(engine)
    async with engine.connect() as connection:
        first_member = await _next_id(connection, table_of(Member))
        first_sale = await _next_id(connection, table_of(Sale))
    rows = generate_members(
        random.Random(seed),
        count=members,
        months=months,
        now=now,
        branch_ids=branch_ids,
        first_member_id=first_member,
        first_sale_id=first_sale,
        visit_scale=visit_scale,
    )
    totals = [0, 0, 0, 0]
    if progress is not None:
        progress("members", 0, members)
    while chunk := list(itertools.islice(rows, chunk_members)):
        async with engine.begin() as connection:
            counts = await _write_chunk(connection, chunk)
        totals = [a + b for a, b in zip(totals, counts, strict=True)]
        if progress is not None:
            progress("members", totals[0], members)
    async with engine.begin() as connection:
        await _advance_sequences(connection)
    return ShopSummary(
        branches=len(BRANCHES),
        members=totals[0],
        sales=totals[1],
        points_entries=totals[2],
        lapsed_members=totals[3],
        seconds=time.perf_counter() - began,
    )
