"""``chatcrm import members`` (:func:`bot.importing.import_members`, what the command runs) on
a file whose cells hold a NUL character — what a POS export or a spreadsheet saved in the wrong
encoding leaves in a cell. The file's header with a NUL is refused as unusable; a cell with one
must end as a per-row report or a cleaned value, with every good row imported."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from storage.models import Member, MemberNote, MemberTag
from tests.storage.import_support import members_from, rows, write

FILE = (
    "name,phone,tags,note\n"
    "Good One,0810000001,vip,first visit\n"
    'Nul Tag,0810000002,"vi\x00p",\n'
    'Nul Note,0810000003,,"allergic\x00 to nuts"\n'
    "Good Two,0810000004,,\n"
)


async def test_a_nul_in_a_tag_or_note_cell_is_cleaned_or_reported_and_good_rows_import(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    report = await members_from(engine, write(tmp_path / "members.csv", FILE))
    names = sorted(name for (name,) in await rows(engine, Member.name))
    assert {"Good One", "Good Two"} <= set(names)
    assert report.created == len(names)
    assert report.created + report.skipped == 4
    stored = [tag for (tag,) in await rows(engine, MemberTag.tag)]
    stored += [text for (text,) in await rows(engine, MemberNote.text)]
    assert all("\x00" not in text for text in stored)
