"""Ids taken before a bulk insert, batch look-ups and balance moves (storage.bulk.sql)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.bulk import bulk_insert, to_records
from storage.bulk.points import Credit, credit_fresh
from storage.bulk.sql import add_to_balances, is_among, reserve_ids
from storage.models import Member, PointsEntry, table_of
from tests.storage.import_support import balances_match_ledger, rows

NOW = datetime(2026, 3, 3, 7, 30, tzinfo=UTC)
MEMBERS = table_of(Member)


def _member(number: int, **extra: Any) -> dict[str, Any]:
    return {
        "member_code": f"CODE{number:04d}",
        "phone": f"+668100{number:05d}",
        "name": f"M{number}",
        "joined_at": NOW,
        **extra,
    }


async def test_reserved_ids_are_unused_and_an_ordinary_insert_comes_after_them(
    engine: AsyncEngine,
) -> None:
    async with engine.begin() as connection:
        await connection.execute(insert(MEMBERS), [_member(1)])
        ids = await reserve_ids(connection, MEMBERS, 3)
        await bulk_insert(
            connection, MEMBERS, [_member(2 + i, id=member_id) for i, member_id in enumerate(ids)]
        )
        more = await reserve_ids(connection, MEMBERS, 2)
    async with engine.begin() as connection:
        await connection.execute(insert(MEMBERS), [_member(9)])
    stored = {
        str(phone): int(member_id)
        for member_id, phone in await rows(engine, Member.id, Member.phone)
    }
    assert len(set(ids)) == 3
    assert len(set(more)) == 2
    assert set(ids) & set(more) == set()
    assert min(ids) > stored["+66810000001"]
    assert stored["+66810000009"] > max(ids)
    assert len(set(stored.values())) == len(stored) == 5


async def test_no_ids_for_no_rows(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        assert await reserve_ids(connection, MEMBERS, 0) == []


async def test_is_among_finds_strings_and_integers(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.execute(insert(MEMBERS), [_member(n) for n in (1, 2, 3)])
    async with engine.connect() as connection:
        phones = await connection.execute(
            select(MEMBERS.c.name).where(
                is_among(connection, MEMBERS.c.phone, ["+66810000002", "+66810000003", "x'"])
            )
        )
        assert sorted(phones.scalars()) == ["M2", "M3"]
        ids = list((await connection.execute(select(MEMBERS.c.id))).scalars())
        by_id = await connection.execute(
            select(MEMBERS.c.id).where(is_among(connection, MEMBERS.c.id, ids[:2]))
        )
        assert sorted(by_id.scalars()) == sorted(ids[:2])
        nothing = await connection.execute(
            select(MEMBERS.c.id).where(is_among(connection, MEMBERS.c.phone, []))
        )
        assert nothing.all() == []


async def test_balances_move_relatively(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.execute(
            insert(MEMBERS), [_member(1, points_balance=10), _member(2, points_balance=0)]
        )
    ids = dict(await rows(engine, Member.phone, Member.id))
    async with engine.begin() as connection:
        await add_to_balances(connection, {ids["+66810000001"]: 5, ids["+66810000002"]: 7})
    balances = dict(await rows(engine, Member.phone, Member.points_balance))
    assert balances == {"+66810000001": 15, "+66810000002": 7}


async def test_fresh_credits_count_a_repeated_key_once_and_skip_zero(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.execute(insert(MEMBERS), [_member(1)])
    (member_id,) = (await rows(engine, Member.id))[0]
    credits = [
        Credit(member_id, 4, "sale", "sale:1", NOW),
        Credit(member_id, 4, "sale", "sale:1", NOW),
        Credit(member_id, 0, "sale", "sale:2", NOW),
        Credit(member_id, 6, "sale", "sale:3", NOW),
    ]
    async with engine.begin() as connection:
        assert await credit_fresh(connection, credits, NOW) == 2
    assert sorted(await rows(engine, PointsEntry.idempotency_key, PointsEntry.delta)) == [
        ("sale:1", 4),
        ("sale:3", 6),
    ]
    assert (await rows(engine, Member.points_balance))[0] == (10,)
    assert await balances_match_ledger(engine)


@pytest.mark.parametrize("dialect", [sqlite.dialect(), postgresql.asyncpg.dialect()])
def test_a_timestamp_shared_by_every_row_is_converted_like_a_row_of_its_own(
    dialect: Dialect,
) -> None:
    ledger = table_of(PointsEntry)
    bangkok = NOW.astimezone(ZoneInfo("Asia/Bangkok"))
    shared = [{"member_id": n, "delta": 1, "created_at": bangkok} for n in range(3)]
    alone = [{"member_id": n, "delta": 1, "created_at": bangkok.replace()} for n in range(3)]
    names, converted = to_records(ledger, shared, dialect)
    assert converted == to_records(ledger, alone, dialect)[1]
    stored = {row[names.index("created_at")] for row in converted}
    assert stored in ({"2026-03-03 07:30:00.000000"}, {NOW})
