"""The generator's bulk path (COPY / driver executemany) stores what Core ``insert()`` stores."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, insert, inspect, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.bulk import (
    bulk_insert,
    create_indexes,
    drop_indexes,
    secondary_indexes,
    to_records,
)
from storage.models import Member, PointsEntry, Sale, table_of
from storage.synthetic import ensure_branches
from storage.synthetic.rows import MemberRows, generate_members

NOW = datetime(2026, 3, 3, 7, 30, tzinfo=UTC)


async def _rows(engine: AsyncEngine, count: int, first: int = 1) -> list[MemberRows]:
    branch_ids = await ensure_branches(engine)
    return list(
        generate_members(
            random.Random(3),
            count=count,
            months=3,
            now=NOW,
            branch_ids=branch_ids,
            first_member_id=first,
            first_sale_id=first * 100,
        )
    )


async def test_bulk_rows_read_back_like_core_rows(engine: AsyncEngine) -> None:
    bulk_rows = await _rows(engine, 5)
    core_rows = await _rows(engine, 5, first=50)
    members, sales = table_of(Member), table_of(Sale)
    async with engine.begin() as connection:
        await bulk_insert(connection, members, [r.member for r in bulk_rows])
        await bulk_insert(connection, sales, [s for r in bulk_rows for s in r.sales])
        await connection.execute(insert(members), [r.member for r in core_rows])
        await connection.execute(insert(sales), [s for r in core_rows for s in r.sales])
    async with engine.connect() as connection:
        stored = {row.id: row for row in await connection.execute(select(sales))}
        people = {row.id: row for row in await connection.execute(select(members))}
    for rows in (bulk_rows, core_rows):
        for member_rows in rows:
            member = member_rows.member
            got = people[member["id"]]
            assert (got.joined_at, got.birthday, got.phone) == (
                member["joined_at"],
                member["birthday"],
                member["phone"],
            )
            # column defaults applied as insert() applies them
            assert (got.locale, got.phone_verified, got.tier) == (member["locale"], False, None)
            for sale in member_rows.sales:
                row = stored[sale["id"]]
                assert (row.amount, row.occurred_at, row.source) == (
                    sale["amount"],
                    sale["occurred_at"],
                    "chat",
                )


async def test_bulk_rows_are_rolled_back_with_their_transaction(engine: AsyncEngine) -> None:
    rows = await _rows(engine, 3)
    members = table_of(Member)

    async def fail_half_way() -> None:
        async with engine.begin() as connection:
            await bulk_insert(connection, members, [r.member for r in rows])
            raise RuntimeError("the chunk failed half way")

    with pytest.raises(RuntimeError):
        await fail_half_way()
    async with engine.connect() as connection:
        count = (await connection.execute(select(func.count()).select_from(members))).scalar()
    assert count == 0


async def test_dropped_indexes_are_built_again_as_the_models_declare(engine: AsyncEngine) -> None:
    indexes = secondary_indexes([table_of(Sale)])
    async with engine.begin() as connection:
        await drop_indexes(connection, indexes)
        dropped = await connection.run_sync(lambda c: inspect(c).get_indexes("sales"))
        await create_indexes(connection, indexes)
        rebuilt = await connection.run_sync(lambda c: inspect(c).get_indexes("sales"))
    names = {str(index.name) for index in indexes}
    assert names
    assert not names & {i["name"] for i in dropped}
    assert names <= {i["name"] for i in rebuilt}


@pytest.mark.parametrize("dialect", [sqlite.dialect(), postgresql.asyncpg.dialect()])
def test_timestamps_become_what_the_column_type_binds(dialect: Dialect) -> None:
    points = table_of(PointsEntry)
    bangkok = datetime(2026, 3, 3, 9, 5, 7, 120, tzinfo=ZoneInfo("Asia/Bangkok"))
    rows = [
        {"member_id": 1, "delta": 5, "reason": "sale", "earned_at": NOW, "created_at": bangkok},
        {"member_id": 2, "delta": 1, "reason": "sale", "earned_at": bangkok, "created_at": NOW},
    ]

    names, records = to_records(points, rows, dialect)

    for column in ("earned_at", "created_at"):
        bind = points.c[column].type._cached_bind_processor(dialect)
        assert bind is not None
        expected = [bind(row[column]) for row in rows]
        got = [record[names.index(column)] for record in records]
        assert got == expected
        assert [type(value) for value in got] == [type(value) for value in expected]


def test_a_naive_timestamp_is_refused() -> None:
    row = {"member_id": 1, "delta": 5, "reason": "sale", "earned_at": datetime(2026, 3, 3)}

    with pytest.raises(ValueError, match="naive"):
        to_records(table_of(PointsEntry), [row], sqlite.dialect())
