"""Opening balances of imported members: written with the member, once per phone."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.models import Member, PointsEntry
from tests.storage.import_support import (
    balances_match_ledger,
    member_by_phone,
    members_from,
    rows,
    write,
)


async def test_new_members_start_with_their_balance_and_one_entry_each(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    path = write(
        tmp_path / "m.csv",
        "name,phone,points\nA,0811111111,150\nB,0822222222,0\nC,0833333333,\n",
    )
    report = await members_from(engine, path, batch_size=2)
    assert report.created == 3
    balances = {
        phone: balance for phone, balance in await rows(engine, Member.phone, Member.points_balance)
    }
    assert balances == {"+66811111111": 150, "+66822222222": 0, "+66833333333": 0}
    entries = await rows(engine, PointsEntry.idempotency_key, PointsEntry.delta)
    assert entries == [("import:+66811111111", 150)]
    assert await balances_match_ledger(engine)


async def test_a_phone_whose_balance_was_opened_before_gets_no_second_opening(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    path = write(tmp_path / "m.csv", "name,phone,points\nA,0811111111,150\n")
    await members_from(engine, path)
    async with engine.begin() as connection:  # the member was erased: the phone is gone
        await connection.execute(update(Member).values(phone=None))
    report = await members_from(engine, path)
    assert report.created == 1
    member = await member_by_phone(engine, "+66811111111")
    assert member.points_balance == 0
    assert await rows(engine, PointsEntry.idempotency_key) == [("import:+66811111111",)]
    assert await balances_match_ledger(engine)
