"""``import members``: good rows in, bad rows reported by line, re-runs change nothing."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.importing import UnusableFile
from storage.bulk import importing as store
from storage.models import Consent, Member, MemberNote, MemberTag, PointsEntry
from storage.synthetic import ensure_branches
from tests.storage.import_support import (
    DATA,
    NOW,
    balances_match_ledger,
    count,
    member_by_phone,
    members_from,
    rows,
    write,
)


async def test_good_rows_are_imported_and_bad_rows_reported_by_line(engine: AsyncEngine) -> None:
    report = await members_from(engine, DATA / "members_bad.csv")
    assert (report.created, report.error_rows) == (2, 4)
    reasons = {(issue.line, issue.column): issue.reason for issue in report.issues}
    assert reasons == {
        (3, "phone"): "not a Thai phone number",
        (4, "birthday"): "not a valid birthday (day/month/year, BE or CE, or YYYY-MM-DD)",
        (5, "name"): "name is empty",
        (6, "phone"): "same phone as line 2",
    }
    assert {phone for (phone,) in await rows(engine, Member.phone)} == {
        "+66812345678",
        "+66891112222",
    }


async def test_imported_member_has_birthday_tags_points_and_no_invented_consent(
    engine: AsyncEngine,
) -> None:
    await members_from(engine, DATA / "members_bad.csv")
    member = await member_by_phone(engine, "+66812345678")
    assert member.birthday == date(1987, 5, 1)  # BE 2530
    assert member.signup_source == "import"
    assert member.marketing_opt_in is False
    assert member.points_balance == 120
    assert await count(engine, Consent) == 0
    tags = {tag for (tag,) in await rows(engine, MemberTag.tag)}
    assert tags == {"vip", "สาขาอโศก", "student"}
    entries = await rows(engine, PointsEntry.reason, PointsEntry.delta, PointsEntry.idempotency_key)
    assert entries == [("import", 120, "import:+66812345678")]


async def test_a_second_run_changes_nothing(engine: AsyncEngine) -> None:
    await members_from(engine, DATA / "members_bad.csv")
    before = (await count(engine, Member), await count(engine, PointsEntry))
    again = await members_from(engine, DATA / "members_bad.csv")
    assert (again.created, again.updated, again.unchanged, again.error_rows) == (0, 0, 2, 4)
    assert (await count(engine, Member), await count(engine, PointsEntry)) == before
    assert await count(engine, MemberTag) == 3


async def test_cached_balances_equal_the_ledger_after_imports(engine: AsyncEngine) -> None:
    await members_from(engine, DATA / "members_bad.csv")
    await members_from(engine, DATA / "members_loyverse.csv")
    assert await balances_match_ledger(engine)


async def test_loyverse_headers_map_without_overrides(engine: AsyncEngine) -> None:
    report = await members_from(engine, DATA / "members_loyverse.csv")
    assert (report.created, report.error_rows) == (3, 0)
    somying = await member_by_phone(engine, "+66812345678")
    assert somying.name == "สมหญิง ใจดี"
    assert somying.points_balance == 58
    assert somying.joined_at.isoformat() == "2025-06-01T03:15:00+00:00"  # 10:15 in Bangkok
    assert (await member_by_phone(engine, "+66612345678")).name == "Somchai"  # Thai digits
    assert [text for (text,) in await rows(engine, MemberNote.text)] == ["ชอบหวานน้อย"]


async def test_an_existing_member_keeps_their_values_and_balance(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    await members_from(engine, DATA / "members_bad.csv")
    path = write(
        tmp_path / "update.csv", "name,phone,birthday,points\nOther,0891112222,02/03/2535,500\n"
    )
    report = await members_from(engine, path)
    ploy = await member_by_phone(engine, "+66891112222")
    assert (ploy.name, ploy.birthday) == ("Ploy", date(1987, 5, 1))
    assert ploy.points_balance == 0  # the first import wins
    assert (report.updated, report.unchanged) == (0, 1)
    assert [issue.severity for issue in report.issues] == ["warning"]
    assert "points not changed" in report.issues[0].reason


async def test_missing_fields_of_an_existing_member_are_filled(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    await members_from(engine, write(tmp_path / "a.csv", "name,phone\nPloy,0891112222\n"))
    report = await members_from(
        engine, write(tmp_path / "b.csv", "name,phone,birthday\nX,0891112222,1/5/1987\n")
    )
    member = await member_by_phone(engine, "+66891112222")
    assert (member.name, member.birthday) == ("Ploy", date(1987, 5, 1))
    assert report.updated == 1


async def test_an_import_filling_a_member_erased_meanwhile_brings_nothing_back(
    engine: AsyncEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the import read her by phone, then she erased herself before it filled her empty fields
    # (on PostgreSQL an erasure committing between the two): her cleared fields stay empty
    await members_from(engine, write(tmp_path / "a.csv", "name,phone\nPloy,0891112222\n"))
    ploy = await member_by_phone(engine, "+66891112222")
    fill, erased = store.fill_empty, update(Member).where(Member.id == ploy.id)
    erased = erased.values(name=None, phone=None, birthday=None, erased_at=NOW)

    async def erased_first(connection: Any, field: str, values: Mapping[int, object]) -> None:
        if field == "name":  # the first field filled
            await connection.execute(erased)
        await fill(connection, field, values)

    monkeypatch.setattr(store, "fill_empty", erased_first)
    await members_from(
        engine, write(tmp_path / "b.csv", "name,phone,birthday\nPloy,0891112222,1/5/1987\n")
    )
    [(name, birthday)] = await rows(engine, Member.name, Member.birthday)
    assert (name, birthday) == (None, None)


async def test_map_overrides_the_header_names(engine: AsyncEngine, tmp_path: Path) -> None:
    path = write(tmp_path / "m.csv", "Nick,Mobile No,Phone\nPloy,0891112222,021234567\n")
    report = await members_from(
        engine, path, overrides={"Nick": "name", "Mobile No": "phone", "Phone": "ignore"}
    )
    assert report.created == 1
    assert (await member_by_phone(engine, "+66891112222")).name == "Ploy"


async def test_dry_run_writes_nothing_but_reports_everything(engine: AsyncEngine) -> None:
    report = await members_from(engine, DATA / "members_bad.csv", dry_run=True)
    assert (report.created, report.error_rows) == (2, 4)
    assert await count(engine, Member) == 0
    assert await count(engine, PointsEntry) == 0


async def test_duplicates_are_found_across_batches(engine: AsyncEngine) -> None:
    report = await members_from(engine, DATA / "members_bad.csv", batch_size=2)
    assert (report.created, report.error_rows) == (2, 4)


async def test_home_branch_by_thai_name(engine: AsyncEngine, tmp_path: Path) -> None:
    branches = await ensure_branches(engine)
    path = write(tmp_path / "m.csv", "ชื่อ,เบอร์โทร,สาขา\nพลอย,0891112222,อโศก\n")
    await members_from(engine, path)
    member = await member_by_phone(engine, "+66891112222")
    assert member.home_branch_id == branches["asoke"]


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16"])
async def test_excel_encodings_are_read(engine: AsyncEngine, tmp_path: Path, encoding: str) -> None:
    text = "ชื่อ\tเบอร์โทร\tแต้ม\nพลอย\t0891112222\t40\n"
    report = await members_from(engine, write(tmp_path / "m.csv", text, encoding))
    assert report.created == 1
    assert (await member_by_phone(engine, "+66891112222")).points_balance == 40


async def test_a_file_without_the_required_columns_is_unusable(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    path = write(tmp_path / "m.csv", "email,city\na@b.c,Bangkok\n")
    with pytest.raises(UnusableFile, match="phone, name"):
        await members_from(engine, path)
    assert await count(engine, Member) == 0
