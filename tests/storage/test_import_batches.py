"""Driving an import (bot.importing.run): the next batch is read while one is written, yet
batches are stored in file order, one transaction each, and a failing batch leaves nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.importing import members
from bot.importing.csvfile import CsvRecord, open_csv
from bot.importing.report import ImportReport
from bot.importing.run import run_batches
from storage.models import Member, table_of
from tests.storage.import_support import NOW, members_from, rows, write

MEMBERS = table_of(Member)


class Boom(Exception):
    pass


class Recording:
    """Stores each row as a member; fails after writing the batch holding ``fail_at``."""

    def __init__(self, fail_at: str | None = None) -> None:
        self.fail_at = fail_at
        self.parsed: list[str] = []
        self.batches: list[list[str]] = []

    def parse(self, record: CsvRecord, report: ImportReport) -> str | None:
        name = record.get("name")
        self.parsed.append(name)
        if name == "bad":
            report.error(record.line, "name", name, "bad row")
            return None
        return name

    async def write(
        self, connection: AsyncConnection, names: list[str], report: ImportReport
    ) -> None:
        self.batches.append(names)
        await connection.execute(
            insert(MEMBERS),
            [
                {"member_code": f"C{name}", "name": name, "phone": f"+6681{name}", "joined_at": NOW}
                for name in names
            ],
        )
        report.created += len(names)
        if self.fail_at in names:
            raise Boom


def _file(tmp_path: Path, names: list[str]) -> Path:
    return write(tmp_path / "m.csv", "name,phone\n" + "".join(f"{n},x\n" for n in names))


async def test_batches_are_written_in_file_order_with_progress(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    names = [f"{n:07d}" for n in range(7)]
    source = open_csv(_file(tmp_path, [*names[:3], "bad", *names[3:]]), members.FIELDS)
    writer = Recording()
    seen: list[tuple[int, int]] = []
    report = await run_batches(
        engine,
        source,
        writer,
        ImportReport("members", False),
        progress=lambda done, total: seen.append((done, total)),
        batch_size=3,
    )
    assert writer.batches == [names[:3], names[3:5], names[5:]]
    assert seen == [(0, 8), (3, 8), (6, 8), (8, 8)]
    assert (report.rows, report.created, report.error_rows) == (8, 7, 1)
    assert sorted(name for (name,) in await rows(engine, Member.name)) == names


async def test_a_failing_batch_leaves_nothing_and_earlier_batches_stay(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    names = [f"{n:07d}" for n in range(9)]
    source = open_csv(_file(tmp_path, names), members.FIELDS)
    writer = Recording(fail_at=names[4])
    with pytest.raises(Boom):
        await run_batches(engine, source, writer, ImportReport("members", False), batch_size=3)
    assert sorted(name for (name,) in await rows(engine, Member.name)) == names[:3]
    assert writer.batches == [names[:3], names[3:6]]  # nothing after the failed batch


async def test_a_dry_run_keeps_nothing_of_any_batch(engine: AsyncEngine, tmp_path: Path) -> None:
    names = [f"{n:07d}" for n in range(5)]
    source = open_csv(_file(tmp_path, names), members.FIELDS)
    report = await run_batches(
        engine, source, Recording(), ImportReport("members", True), batch_size=2
    )
    assert report.created == 5
    assert await rows(engine, Member.name) == []


async def test_the_same_bad_cell_is_reported_on_every_row(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    path = write(
        tmp_path / "m.csv",
        "name,phone,birthday,points\n"
        "A,0811111111,31/02/1990,5\n"
        "B,0822222222,31/02/1990,5\n"
        "C,0833333333,1/2/1990,abc\n"
        "D,0844444444,1/2/1990,abc\n",
    )
    report = await members_from(engine, path, batch_size=1)
    assert sorted((issue.line, issue.column) for issue in report.issues) == [
        (2, "birthday"),
        (3, "birthday"),
        (4, "points"),
        (5, "points"),
    ]
    assert report.created == 0
