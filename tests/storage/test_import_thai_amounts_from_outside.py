"""``chatcrm import sales`` reading the amounts Thai POS exports and hand-kept sheets hold:
Thai digits, a baht sign or word before or after, THB, a phone keyboard's wide digits, a
space between thousands — and the forms that are no amount (``120.-`` as price tags write
it, ``1.250,50`` from a European-set POS), each reported on its line while the rows around it
are imported. A comma is a thousands separator only between groups of three: an amount is
never read as a hundred times itself. The members file's points and tags are read as the
chat reads them."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.models import Member, MemberTag, Sale
from storage.synthetic import ensure_branches
from tests.storage.import_support import DATA, members_from, rows, sales_from, write

HEAD = "receipt,datetime,phone,amount,branch\n"


@pytest.fixture
async def shop(engine: AsyncEngine) -> None:
    await ensure_branches(engine)
    await members_from(engine, DATA / "members_bad.csv")  # สมหญิง ใจดี, 0812345678


def _row(receipt: str, amount: str) -> str:
    return f'{receipt},2026-03-01 09:30,0812345678,"{amount}",asoke\n'


@pytest.mark.parametrize(
    ("typed", "amount"),
    [
        ("๑,๒๕๐", "1250.00"),
        ("๑๒๐.๕๐", "120.50"),
        ("฿ 1,250.50", "1250.50"),
        ("120฿", "120.00"),
        ("120 บาท", "120.00"),
        ("THB120", "120.00"),
        ("１２０", "120.00"),
        ("1 250", "1250.00"),
    ],
)
@pytest.mark.usefixtures("shop")
async def test_an_amount_as_a_thai_sheet_writes_it_is_imported_as_baht(
    engine: AsyncEngine, tmp_path: Path, typed: str, amount: str
) -> None:
    report = await sales_from(engine, write(tmp_path / "s.csv", HEAD + _row("N-1", typed)))
    assert report.issues == []
    assert await rows(engine, Sale.receipt_no, Sale.amount) == [("N-1", Decimal(amount))]


@pytest.mark.parametrize("typed", ["120.-", "1.250,50", "-0", "๑๒๐ แต้ม"])
@pytest.mark.usefixtures("shop")
async def test_an_amount_that_is_no_amount_is_reported_on_its_line(
    engine: AsyncEngine, tmp_path: Path, typed: str
) -> None:
    body = HEAD + _row("N-1", "50") + _row("N-2", typed) + _row("N-3", "75")
    report = await sales_from(engine, write(tmp_path / "s.csv", body))
    assert [(issue.line, issue.column, issue.value) for issue in report.issues] == [
        (3, "amount", typed)
    ]
    assert sorted(await rows(engine, Sale.receipt_no)) == [("N-1",), ("N-3",)]


@pytest.mark.usefixtures("shop")
async def test_an_amount_with_a_decimal_comma_is_not_imported_as_a_hundred_times_more(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    report = await sales_from(engine, write(tmp_path / "s.csv", HEAD + _row("N-1", "12,50")))
    assert await rows(engine, Sale.amount) != [(Decimal("1250.00"),)]
    assert [issue.line for issue in report.issues] == [2]
    assert "comma separates thousands only" in report.issues[0].reason


@pytest.mark.parametrize(("typed", "balance"), [("1,5", None), ("๑,๒๐๐", 1200)])
async def test_a_points_balance_is_read_with_the_same_commas_as_an_amount(
    engine: AsyncEngine, tmp_path: Path, typed: str, balance: int | None
) -> None:
    """A members file's points: ``1,5`` is reported on its line, not opened as 15 points."""
    body = f'name,phone,points\nPloy,0891112222,"{typed}"\n'
    report = await members_from(engine, write(tmp_path / "m.csv", body))
    found = await rows(engine, Member.points_balance)
    if balance is None:
        assert [(issue.line, issue.column) for issue in report.issues] == [(2, "points")]
        assert found in ([], [(0,)])
    else:
        assert report.issues == []
        assert found == [(balance,)]


async def test_a_tag_copied_with_a_zero_width_space_is_imported_as_staff_see_it(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    """As the chat's /tag reads it: the tag a segment rule ``tag = ลูกค้าประจำ`` finds."""
    body = "name,phone,tags\nPloy,0891112222,ลูกค้า\u200bประจำ;\ufeffvip\n"
    report = await members_from(engine, write(tmp_path / "m.csv", body))
    assert report.issues == []
    assert sorted(await rows(engine, MemberTag.tag)) == [("vip",), ("ลูกค้าประจำ",)]
