"""``chatcrm export members`` opened in a spreadsheet, from outside: members imported from a
POS file with names a customer chose (formulas, Thai with emoji, quotes, a comma), exported,
and every cell read as Excel and LibreOffice read a CSV — a cell starting with ``=``, ``+``,
``-`` or ``@`` is a formula (``+66812345678`` becomes the number 66812345678, shown as
6.68123E+10), so none may start that way, and the names must read back as they were."""

from __future__ import annotations

import csv
from pathlib import Path

from bot.cli import main
from tests.unit.test_cli import clean_environment  # noqa: F401  (autouse: empty folder, own db)

NAMES = {
    "0812345601": '=HYPERLINK("http://evil.example","ดูแต้ม")',
    "0812345602": 'พลอย 🌸 "ป่าน", ร้านชา',
    "0812345603": "@SUM(1+1)",
    "0812345604": "-1+2",
}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _export(tmp_path: Path) -> list[dict[str, str]]:
    source = tmp_path / "members.csv"
    with source.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["name", "phone"])
        writer.writerows([name, phone] for phone, name in NAMES.items())
    assert main(["import", "members", str(source)]) == 0
    out = tmp_path / "out.csv"
    assert main(["export", "members", str(out)]) == 0
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")  # Excel reads it as UTF-8
    with out.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def test_names_are_text_and_read_back_as_the_customer_wrote_them(tmp_path: Path) -> None:
    rows = _export(tmp_path)
    assert len(rows) == len(NAMES)
    for row in rows:
        assert not row["name"].startswith(FORMULA_START), row
        phone = row["phone"].removeprefix("'")  # '+66…: a phone a spreadsheet keeps as text
        assert row["name"].removeprefix("'") == NAMES[phone[3:].rjust(10, "0")]


def test_no_cell_of_the_export_is_read_as_a_formula(tmp_path: Path) -> None:
    live = [
        (column, value)
        for row in _export(tmp_path)
        for column, value in row.items()
        if value.startswith(FORMULA_START)
    ]
    assert live == []
