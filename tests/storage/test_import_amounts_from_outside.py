"""``chatcrm import sales`` meeting amounts a POS export can hold that are no sale: each such
row is reported with its line and reason, the good rows around it are imported, and the run
never stops on one cell."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.models import Sale
from storage.synthetic import ensure_branches
from tests.storage.import_support import DATA, count, members_from, sales_from, write


@pytest.fixture
async def shop(engine: AsyncEngine) -> None:
    await ensure_branches(engine)
    await members_from(engine, DATA / "members_bad.csv")


@pytest.mark.parametrize(
    "amount",
    [
        "-55",
        "0",
        "2000000000",
        pytest.param("9" * 30, id="thirty-digits"),
    ],
)
@pytest.mark.usefixtures("shop")
async def test_a_row_whose_amount_is_no_sale_is_reported_and_the_rest_imported(
    engine: AsyncEngine, tmp_path: Path, amount: str
) -> None:
    path = write(
        tmp_path / "s.csv",
        "receipt,datetime,phone,amount,branch\n"
        "N-1,2026-03-01 09:30,0891112222,50,asoke\n"
        f"N-2,2026-03-01 09:40,0891112222,{amount},asoke\n"
        "N-3,2026-03-01 09:50,0891112222,75,asoke\n",
    )
    report = await sales_from(engine, path)
    assert [issue.line for issue in report.issues] == [3]
    assert report.created == 2
    assert await count(engine, Sale) == 2
