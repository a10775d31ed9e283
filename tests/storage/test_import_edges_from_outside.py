"""Import files as Thai shops actually have them: Excel's BOM, ``;`` and quoted newlines,
cp874 text, Buddhist-Era ISO dates on a leap day, and phones Excel has mangled."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.bootstrap import App
from bot.importing import UnusableFile
from storage.exporting import export_members
from storage.models import Member, PointsEntry, Sale
from storage.synthetic import ensure_branches
from tests.storage.import_support import (
    BANGKOK,
    count,
    members_from,
    rows,
    sales_from,
    write,
)
from tests.unit.staff_support import make_member


@pytest.fixture
async def ploy(engine: AsyncEngine, tmp_path: Path) -> None:
    await ensure_branches(engine)
    await members_from(engine, write(tmp_path / "m.csv", "name,phone\nPloy,0891112222\n"))


async def _one_sale(engine: AsyncEngine, tmp_path: Path, moment: str) -> list[datetime]:
    path = write(
        tmp_path / "s.csv",
        f"receipt,datetime,phone,amount,branch\nX1,{moment},0891112222,50,asoke\n",
    )
    report = await sales_from(engine, path)
    assert [(issue.line, issue.reason) for issue in report.issues] == []
    return [at for (at,) in await rows(engine, Sale.occurred_at)]


async def test_day_first_buddhist_era_leap_day(
    engine: AsyncEngine, ploy: None, tmp_path: Path
) -> None:
    # BE 2567 is 2024, a leap year, though 2567 itself is not divisible by 4
    assert await _one_sale(engine, tmp_path, "29/02/2567 10:00") == [
        datetime(2024, 2, 29, 3, 0, tzinfo=UTC)
    ]


@pytest.mark.parametrize("moment", ["2567-02-29 10:00", "2567-02-29T10:00:00+07:00"])
async def test_iso_buddhist_era_leap_day(
    engine: AsyncEngine, ploy: None, tmp_path: Path, moment: str
) -> None:
    assert await _one_sale(engine, tmp_path, moment) == [datetime(2024, 2, 29, 3, 0, tzinfo=UTC)]


async def test_bom_semicolons_and_a_quoted_newline(engine: AsyncEngine, tmp_path: Path) -> None:
    path = write(
        tmp_path / "excel.csv",
        '\ufeffname;phone;tags\n"Ann\nBee";+66 81 999 8888;"a;b"\nCee;(081) 999-8887;\n',
    )
    report = await members_from(engine, path)
    assert (report.created, report.issues) == (2, [])
    assert set(await rows(engine, Member.name, Member.phone)) == {
        ("Ann Bee", "+66819998888"),
        ("Cee", "+66819998887"),
    }


async def test_cp874_file_is_refused_whole_with_what_to_do(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    path = tmp_path / "thai-excel.csv"
    path.write_bytes("name,phone\nสมหญิง,0812345678\n".encode("cp874"))
    with pytest.raises(UnusableFile, match="CSV UTF-8"):
        await members_from(engine, path)
    assert await count(engine, Member) == 0


async def test_a_phone_excel_stripped_of_its_leading_zero(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    report = await members_from(engine, write(tmp_path / "m.csv", "name,phone\nAnn,812345678\n"))
    assert (report.created, report.issues) == (1, [])


async def test_a_second_run_of_a_file_with_a_repeated_member_changes_nothing(
    engine: AsyncEngine, ploy: None, tmp_path: Path
) -> None:
    sales = write(
        tmp_path / "s.csv",
        "receipt,datetime,phone,amount,branch\n"
        "A1,2026-03-01 10:00,0891112222,100,asoke\n"
        "A2,2026-03-01 11:00,089-111-2222,250,อโศก\n"
        "A3,2026-03-01 12:00,not a phone,75,asoke\n"
        "A4,2026-03-01 13:00,+66891112222,125,asoke\n",
    )
    first = await sales_from(engine, sales)
    assert first.created == 3
    assert [(issue.line, issue.column) for issue in first.issues] == [(4, "phone")]
    before = (await count(engine, Sale), await count(engine, PointsEntry))
    balance = (await rows(engine, Member.points_balance))[0][0]
    assert balance == 4 + 10 + 5  # 25 baht a point, per sale
    again = await sales_from(engine, sales)
    assert again.created == 0
    assert (await count(engine, Sale), await count(engine, PointsEntry)) == before
    assert (await rows(engine, Member.points_balance))[0][0] == balance


async def test_line_numbers_count_quoted_newlines_and_thai_digit_phones_match(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    path = write(
        tmp_path / "m.csv",
        "name,phone,points,birthday\n"
        '"A\nB",๐๘๑๒๓๔๕๖๗๘,10,29/02/2543\n'  # Thai digits; BE 2543 is leap year 2000
        "C,0812345678,20,\n"
        '"E\n\nF",0899999999,1,29/02/2568\n'  # 2025 has no 29 February
        "G,02-123-4567,1,\n"
        "H,+66 2 123 4567,1,\n",
    )
    report = await members_from(engine, path)
    assert [(issue.line, issue.column) for issue in report.issues] == [
        (4, "phone"),
        (5, "birthday"),
        (9, "phone"),
    ]
    assert report.created == 2


async def test_a_receipt_number_reused_for_another_customer_is_reported(
    engine: AsyncEngine, ploy: None, tmp_path: Path
) -> None:
    await members_from(engine, write(tmp_path / "m2.csv", "name,phone\nAnn,0812345678\n"))
    path = write(
        tmp_path / "s.csv",
        "receipt,datetime,phone,amount,branch\n"
        "1001,2026-03-01 10:00,0891112222,50,asoke\n"
        "1001,2026-03-02 18:00,0812345678,50,ratchada\n",
    )
    report = await sales_from(engine, path)
    assert report.created + len(report.issues) == 2


async def test_an_export_imported_back_changes_nothing(
    app: App, engine: AsyncEngine, tmp_path: Path
) -> None:
    await make_member(app, "พลอย 🍵", "081-111-1111", points=300)
    await make_member(app, "=cmd", "081-111-1112", birthday=None)  # exported as '=cmd
    path = tmp_path / "export.csv"
    since = datetime(2025, 3, 3, 7, 30, tzinfo=UTC)
    await export_members(engine, path, tz=BANGKOK, tier_since=since, tier_for=lambda *_: "m")
    columns = (Member.name, Member.phone, Member.points_balance, Member.birthday)
    before = (set(await rows(engine, *columns)), await count(engine, PointsEntry))
    report = await members_from(engine, path)
    assert (report.created, report.updated, report.unchanged, report.issues) == (0, 0, 2, [])
    assert (set(await rows(engine, *columns)), await count(engine, PointsEntry)) == before


async def test_a_repeat_of_a_failed_receipt_is_not_counted_as_stored(
    engine: AsyncEngine, ploy: None, tmp_path: Path
) -> None:
    path = write(
        tmp_path / "s.csv",
        "receipt,datetime,phone,amount,branch\n"
        "R9,2026-03-01 10:00,0800000000,100,asoke\n"
        "R9,2026-03-01 10:00,0800000000,100,asoke\n",
    )
    report = await sales_from(engine, path)
    assert await count(engine, Sale) == 0
    assert (report.created, report.unchanged) == (0, 0)
