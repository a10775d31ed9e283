"""``import sales``: idempotent on the receipt, conflicts reported, Thai dates and branches."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.models import PointsEntry, Sale
from storage.synthetic import ensure_branches
from tests.storage.import_support import (
    DATA,
    balances_match_ledger,
    count,
    member_by_phone,
    members_from,
    rows,
    sales_from,
    write,
)

SALES = DATA / "sales_loyverse.csv"


@pytest.fixture
async def branches(engine: AsyncEngine) -> dict[str, int]:
    branches = await ensure_branches(engine)
    await members_from(engine, DATA / "members_bad.csv")
    return branches


async def test_loyverse_receipts_are_imported_with_points(
    engine: AsyncEngine, branches: dict[str, int]
) -> None:
    report = await sales_from(engine, SALES)
    assert (report.created, report.skipped, report.error_rows) == (3, 2, 2)
    sales = {
        receipt: (amount, branch, source)
        for receipt, amount, branch, source in await rows(
            engine, Sale.receipt_no, Sale.amount, Sale.branch_id, Sale.source
        )
    }
    assert sales == {
        "1-1001": (Decimal("120.00"), branches["asoke"], "import"),  # net sales, Thai name
        "1-1002": (Decimal("55.00"), branches["asoke"], "import"),
        "1-1007": (Decimal("250.00"), branches["ratchada"], "import"),
    }
    assert (await member_by_phone(engine, "+66891112222")).points_balance == 2 + 10
    assert await balances_match_ledger(engine)


async def test_buddhist_era_dates_in_shop_time(
    engine: AsyncEngine, branches: dict[str, int]
) -> None:
    await sales_from(engine, SALES)
    moments = dict(await rows(engine, Sale.receipt_no, Sale.occurred_at))
    assert moments["1-1001"] == datetime(2026, 3, 2, 7, 5, tzinfo=UTC)  # 14:05 in Bangkok
    assert moments["1-1007"] == datetime(2025, 12, 31, 13, 0, tzinfo=UTC)


async def test_points_are_earned_at_the_time_of_the_sale(
    engine: AsyncEngine, branches: dict[str, int]
) -> None:
    await sales_from(engine, SALES)
    entries = await rows(engine, PointsEntry.reason, PointsEntry.delta, PointsEntry.earned_at)
    assert ("sale", 10, datetime(2025, 12, 31, 13, 0, tzinfo=UTC)) in entries


async def test_bad_rows_are_reported_with_line_and_reason(
    engine: AsyncEngine, branches: dict[str, int]
) -> None:
    report = await sales_from(engine, SALES)
    reasons = {(issue.line, issue.column): issue.reason for issue in report.issues}
    assert reasons == {
        (6, "Store"): "unknown branch (write its code or name)",
        (7, "Customer contacts"): "no member with this phone or code (import the members first)",
    }


async def test_a_second_run_changes_nothing(engine: AsyncEngine, branches: dict[str, int]) -> None:
    await sales_from(engine, SALES)
    before = (await count(engine, Sale), await count(engine, PointsEntry))
    again = await sales_from(engine, SALES)
    assert (again.created, again.unchanged) == (0, 3)
    assert (await count(engine, Sale), await count(engine, PointsEntry)) == before


async def test_the_same_receipt_with_another_amount_is_a_conflict(
    engine: AsyncEngine, branches: dict[str, int], tmp_path: Path
) -> None:
    await sales_from(engine, SALES)
    path = write(
        tmp_path / "s.csv",
        "receipt,datetime,phone,amount,branch\n"
        "1-1002,2026-03-01 09:30,0891112222,99,asoke\n"
        "N-1,2026-03-01 09:30,0891112222,50,asoke\n"
        "N-1,2026-03-01 09:30,0891112222,60,asoke\n",
    )
    report = await sales_from(engine, path)
    reasons = {issue.line: issue.reason for issue in report.issues}
    assert reasons == {
        2: "already recorded with amount 55.00",
        4: "receipt already on line 3 with amount 50.00",
    }
    amounts = dict(await rows(engine, Sale.receipt_no, Sale.amount))
    assert (amounts["1-1002"], amounts["N-1"]) == (Decimal("55.00"), Decimal("50.00"))


async def test_no_points_when_award_points_is_off(
    engine: AsyncEngine, branches: dict[str, int]
) -> None:
    await sales_from(engine, SALES, points_for=None)
    assert await count(engine, Sale) == 3
    assert [reason for (reason,) in await rows(engine, PointsEntry.reason)] == ["import"]


async def test_member_code_and_default_branch(
    engine: AsyncEngine, branches: dict[str, int], tmp_path: Path
) -> None:
    code = (await member_by_phone(engine, "+66891112222")).member_code
    path = write(tmp_path / "s.csv", f"receipt,date,member,total\nR1,1/3/2026 2:05 PM,{code},80\n")
    report = await sales_from(engine, path, branch="sukhumvit")
    assert report.created == 1
    sale = (await rows(engine, Sale.branch_id, Sale.occurred_at))[0]
    assert sale == (branches["sukhumvit"], datetime(2026, 3, 1, 7, 5, tzinfo=UTC))


async def test_dry_run_writes_nothing(engine: AsyncEngine, branches: dict[str, int]) -> None:
    report = await sales_from(engine, SALES, dry_run=True)
    assert report.created == 3
    assert await count(engine, Sale) == 0
    assert [reason for (reason,) in await rows(engine, PointsEntry.reason)] == ["import"]
