"""``export members``: Excel-friendly, no erased members, and it reads back as an import."""

from __future__ import annotations

import csv
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.exporting import COLUMNS, export_members
from storage.models import Member, MemberNote, MemberTag, PointsEntry, Sale
from storage.synthetic import ensure_branches
from tests.storage.import_support import BANGKOK, DATA, NOW, members_from, sales_from, write


def _tier(held: str | None, spend: Decimal) -> str:
    return "silver" if spend >= 300 else "member"


async def _export(engine: AsyncEngine, path: Path) -> list[dict[str, str]]:
    await export_members(
        engine, path, tz=BANGKOK, tier_since=NOW - timedelta(days=365), tier_for=_tier
    )
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
async def shop(engine: AsyncEngine) -> None:
    await ensure_branches(engine)
    await members_from(engine, DATA / "members_bad.csv")
    await members_from(engine, DATA / "members_loyverse.csv")
    await sales_from(engine, DATA / "sales_loyverse.csv")


async def test_export_has_every_member_with_totals(
    engine: AsyncEngine, shop: None, tmp_path: Path
) -> None:
    exported = await _export(engine, tmp_path / "out.csv")
    assert len(exported) == 3
    assert tuple(exported[0]) == COLUMNS
    ploy = next(row for row in exported if row["phone"] == "'+66891112222")  # text, not a number
    assert ploy["visits"] == "2"
    assert ploy["total_spend"] == "305.00"
    assert ploy["tier"] == "silver"
    assert ploy["points"] == "12"
    assert ploy["tags"] == "student"
    assert ploy["birthday"] == "1987-05-01"
    assert ploy["last_visit"] == "2026-03-01T09:30:00+07:00"


async def test_the_file_starts_with_a_bom_for_excel(
    engine: AsyncEngine, shop: None, tmp_path: Path
) -> None:
    await _export(engine, tmp_path / "out.csv")
    assert (tmp_path / "out.csv").read_bytes().startswith(b"\xef\xbb\xbfmember_code,")


async def test_erased_members_are_left_out(engine: AsyncEngine, shop: None, tmp_path: Path) -> None:
    async with engine.begin() as connection:
        await connection.execute(
            update(Member)
            .where(Member.phone == "+66891112222")
            .values(name=None, phone=None, erased_at=NOW)
        )
    exported = await _export(engine, tmp_path / "out.csv")
    assert len(exported) == 2
    assert all(row["name"] != "Ploy" for row in exported)


async def test_formula_looking_names_are_guarded(engine: AsyncEngine, tmp_path: Path) -> None:
    await members_from(engine, write(tmp_path / "in.csv", "name,phone\n=HYPERLINK(1),0891112222\n"))
    exported = await _export(engine, tmp_path / "out.csv")
    assert exported[0]["name"] == "'=HYPERLINK(1)"
    await members_from(engine, tmp_path / "out.csv")  # and the import takes the guard off
    async with engine.connect() as connection:
        names = (await connection.execute(Member.__table__.select())).all()
    assert [row.name for row in names] == ["=HYPERLINK(1)"]


async def test_reimporting_an_export_changes_nothing(
    engine: AsyncEngine, shop: None, tmp_path: Path
) -> None:
    await _export(engine, tmp_path / "out.csv")
    report = await members_from(engine, tmp_path / "out.csv")
    assert (report.created, report.updated, report.unchanged) == (0, 0, 3)
    assert report.issues == []


async def test_export_round_trips_through_import(
    engine: AsyncEngine, shop: None, tmp_path: Path
) -> None:
    first = await _export(engine, tmp_path / "first.csv")
    async with engine.begin() as connection:
        for model in (PointsEntry, Sale, MemberTag, MemberNote, Member):
            await connection.execute(delete(model))
    report = await members_from(engine, tmp_path / "first.csv")
    assert (report.created, report.error_rows) == (3, 0)
    second = await _export(engine, tmp_path / "second.csv")
    kept = ("member_code", "name", "phone", "birthday", "gender", "home_branch", "joined")
    kept += ("points", "tags")
    assert [{k: row[k] for k in kept} for row in second] == [
        {k: row[k] for k in kept} for row in first
    ]
