"""``import sales`` in a chain whose branch names and codes overlap, from outside.

A branch code is the one thing that names a branch for sure (unique, typed by staff, named by
segments); a name is for display and two branches may share one. The Ladprao branch sits in
the Central Ladprao mall and is called "Central" in English; later the shop opens a branch at
CentralWorld with the code ``central``.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.models import Branch, Sale
from tests.storage.import_support import DATA, members_from, rows, sales_from, write


async def _two_centrals(engine: AsyncEngine) -> dict[str, int]:
    async with engine.begin() as connection:
        await connection.execute(
            insert(Branch),
            [
                {"code": "ladprao", "name_th": "ลาดพร้าว", "name_en": "Central", "active": True},
                {
                    "code": "central",
                    "name_th": "เซ็นทรัลเวิลด์",
                    "name_en": "CentralWorld",
                    "active": True,
                },
            ],
        )
    await members_from(engine, DATA / "members_bad.csv")
    return {code: int(i) for code, i in await rows(engine, Branch.code, Branch.id)}


async def test_a_branch_code_in_the_file_names_that_branch(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    ids = await _two_centrals(engine)
    path = write(
        tmp_path / "s.csv",
        "receipt,datetime,phone,amount,branch\nCW-1,2026-03-01 09:30,0812345678,99,central\n",
    )
    report = await sales_from(engine, path)
    assert report.created == 1, report.issues
    assert list(await rows(engine, Sale.receipt_no, Sale.branch_id)) == [("CW-1", ids["central"])]


async def test_the_default_branch_code_names_that_branch(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    ids = await _two_centrals(engine)
    path = write(
        tmp_path / "s.csv", "receipt,datetime,phone,amount\nCW-2,2026-03-01 09:30,0812345678,99\n"
    )
    report = await sales_from(engine, path, branch="central")
    assert report.created == 1, report.issues
    assert list(await rows(engine, Sale.receipt_no, Sale.branch_id)) == [("CW-2", ids["central"])]


async def test_a_branch_name_two_branches_share_is_reported_not_guessed(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    async with engine.begin() as connection:
        await connection.execute(
            insert(Branch),
            [
                {"code": "paragon", "name_th": "สยาม", "name_en": "Siam Paragon", "active": True},
                {"code": "square", "name_th": "สยาม", "name_en": "Siam Square", "active": True},
            ],
        )
    await members_from(engine, DATA / "members_bad.csv")
    path = write(
        tmp_path / "s.csv",
        "receipt,datetime,phone,amount,branch\nSQ-1,2026-03-01 09:30,0812345678,99,สยาม\n",
    )
    report = await sales_from(engine, path)
    assert report.created == 0
    assert [issue.line for issue in report.issues] == [2]
