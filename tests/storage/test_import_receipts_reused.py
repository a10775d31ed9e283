"""A receipt number met again, in the database or later in the same file: unchanged only when
it is the same sale; anything else is reported with its line, never counted as stored."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.models import Sale
from storage.synthetic import ensure_branches
from tests.storage.import_support import count, members_from, rows, sales_from, write

HEADER = "receipt,datetime,phone,amount,branch\n"


@pytest.fixture
async def two(engine: AsyncEngine, tmp_path: Path) -> None:
    await ensure_branches(engine)
    members = "name,phone\nPloy,0891112222\nAnn,0812345678\n"
    await members_from(engine, write(tmp_path / "m.csv", members))


def _reasons(report: object) -> dict[int, str]:
    return {issue.line: issue.reason for issue in report.issues}  # type: ignore[attr-defined]


async def test_a_stored_receipt_for_another_customer_is_a_conflict(
    engine: AsyncEngine, two: None, tmp_path: Path
) -> None:
    await sales_from(
        engine, write(tmp_path / "a.csv", HEADER + "7,2026-03-01 10:00,0891112222,50,asoke\n")
    )
    report = await sales_from(
        engine, write(tmp_path / "b.csv", HEADER + "7,2026-03-02 10:00,0812345678,50,asoke\n")
    )
    assert (report.created, report.unchanged) == (0, 0)
    assert _reasons(report) == {2: "already recorded for another customer"}


async def test_a_copy_of_a_row_in_conflict_with_the_database_fails_too(
    engine: AsyncEngine, two: None, tmp_path: Path
) -> None:
    await sales_from(
        engine, write(tmp_path / "a.csv", HEADER + "7,2026-03-01 10:00,0891112222,50,asoke\n")
    )
    again = "7,2026-03-01 10:00,0891112222,60,asoke\n"
    report = await sales_from(engine, write(tmp_path / "b.csv", HEADER + again + again))
    assert (report.created, report.unchanged) == (0, 0)
    assert _reasons(report) == {
        2: "already recorded with amount 50.00",
        3: "already recorded with amount 50.00",
    }


@pytest.mark.parametrize("batch_size", [1, 1000])
async def test_a_copy_of_a_row_is_unchanged_in_the_same_or_a_later_batch(
    engine: AsyncEngine, two: None, tmp_path: Path, batch_size: int
) -> None:
    """Another branch's till prints its own receipt 7: another sale; a row of Asoke's 7 at
    another time is a conflict."""
    row = "7,2026-03-01 10:00,0891112222,50,asoke\n"
    later = "7,2026-03-01 11:00,0891112222,50,asoke\n"
    other = "7,2026-03-01 10:00,0891112222,50,ratchada\n"
    path = write(tmp_path / "s.csv", HEADER + row + row + later + other)
    report = await sales_from(engine, path, batch_size=batch_size)
    assert (report.created, report.unchanged) == (2, 1)
    assert _reasons(report) == {4: "receipt already on line 2 with another date or time"}
    stored = await rows(engine, Sale.receipt_no, Sale.amount)
    assert stored == [("7", Decimal("50.00")), ("7", Decimal("50.00"))]


async def test_a_stored_receipt_of_another_branch_is_another_sale(
    engine: AsyncEngine, two: None, tmp_path: Path
) -> None:
    await sales_from(
        engine, write(tmp_path / "a.csv", HEADER + "7,2026-03-01 10:00,0891112222,50,asoke\n")
    )
    report = await sales_from(
        engine, write(tmp_path / "b.csv", HEADER + "7,2026-03-02 10:00,0812345678,50,ratchada\n")
    )
    assert (report.created, report.unchanged, _reasons(report)) == (1, 0, {})
    again = await sales_from(
        engine, write(tmp_path / "b.csv", HEADER + "7,2026-03-02 10:00,0812345678,50,ratchada\n")
    )
    assert (again.created, again.unchanged, _reasons(again)) == (0, 1, {})
    assert await count(engine, Sale) == 2


async def test_a_reused_receipt_after_a_failed_first_row_is_a_conflict(
    engine: AsyncEngine, two: None, tmp_path: Path
) -> None:
    path = write(
        tmp_path / "s.csv",
        HEADER + "9,2026-03-01 10:00,0800000000,50,asoke\n9,2026-03-01 10:00,0891112222,50,asoke\n",
    )
    report = await sales_from(engine, path, batch_size=1)
    assert (report.created, report.unchanged, await count(engine, Sale)) == (0, 0, 0)
    assert _reasons(report)[3] == "receipt already on line 2 for another customer"


async def test_a_mobile_without_its_zero_finds_the_customer_of_a_sale(
    engine: AsyncEngine, two: None, tmp_path: Path
) -> None:
    path = write(tmp_path / "s.csv", HEADER + "5,2026-03-01 10:00,812345678,50,asoke\n")
    report = await sales_from(engine, path)
    assert (report.created, report.issues) == (1, [])
