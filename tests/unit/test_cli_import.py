"""The import/export commands and ``chat --as`` staff roles, end to end on a SQLite file."""

from __future__ import annotations

import csv
import io
import sqlite3
from pathlib import Path

import pytest

from bot.cli import main
from tests.unit.test_cli import clean_environment  # noqa: F401  (autouse: empty folder, own db)

DATA = Path(__file__).parent.parent / "data"


def _query(path: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as connection:
        return list(connection.execute(sql))


def test_import_members_reports_bad_rows_and_exits_0(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    errors = tmp_path / "errors.csv"
    argv = ["import", "members", str(DATA / "members_bad.csv"), "--errors", str(errors)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "same phone as line 2" in out
    assert _query(tmp_path / "shop.db", "SELECT count(*) FROM members") == [(2,)]
    with errors.open(encoding="utf-8-sig") as handle:
        lines = [row["line"] for row in csv.DictReader(handle)]
    assert lines == ["3", "4", "5", "6"]


def test_an_import_is_audited(tmp_path: Path) -> None:
    main(["import", "members", str(DATA / "members_bad.csv")])
    actions = _query(tmp_path / "shop.db", "SELECT actor, action FROM audit_log")
    assert actions == [("cli", "import_members")]


def test_dry_run_says_so_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import", "members", str(DATA / "members_bad.csv"), "--dry-run"]) == 0
    assert "Dry run: nothing was written" in capsys.readouterr().out
    assert _query(tmp_path / "shop.db", "SELECT count(*) FROM members") == [(0,)]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe", "not UTF-8"),
        (b"PK\x03\x04rest-of-a-workbook", "workbook"),
        (b"email,city\na@b.c,Bangkok\n", "required column(s) missing"),
        (b"", "is empty"),
    ],
)
def test_an_unusable_file_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, message: str
) -> None:
    path = tmp_path / "in.csv"
    path.write_bytes(content)
    assert main(["import", "members", str(path)]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_a_bad_map_field_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["import", "members", str(DATA / "members_bad.csv"), "--map", "name=shoe_size"]
    assert main(argv) == 2
    assert "unknown field" in capsys.readouterr().err


@pytest.mark.e2e
def test_import_sales_without_points_on_a_shop_with_branches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = _demo(tmp_path)
    monkeypatch.setenv("CHATCRM_DATABASE_URL", f"sqlite+aiosqlite:///{database}")
    main(["import", "members", str(DATA / "members_bad.csv")])
    assert main(["import", "sales", str(DATA / "sales_loyverse.csv"), "--no-award-points"]) == 0
    imported = "SELECT id FROM sales WHERE source = 'import'"
    assert len(_query(database, imported)) == 3
    earned = f"SELECT count(*) FROM points_ledger WHERE sale_id IN ({imported})"  # noqa: S608
    assert _query(database, earned) == [(0,)]


def test_an_unknown_default_branch_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import", "sales", str(DATA / "sales_loyverse.csv"), "--branch", "zz"]) == 2
    assert "no such branch" in capsys.readouterr().err


def test_export_members_writes_a_bom_csv(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["import", "members", str(DATA / "members_loyverse.csv")])
    out = tmp_path / "out.csv"
    assert main(["export", "members", str(out)]) == 0
    assert "Exported 3 members" in capsys.readouterr().out
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")
    actions = _query(tmp_path / "shop.db", "SELECT action FROM audit_log ORDER BY id")
    assert actions == [("import_members",), ("export_members",)]


def _demo(tmp_path: Path) -> Path:
    database = tmp_path / "demo.db"
    argv = ["demo", "--members", "60", "--months", "1", "--no-chat", "--database", str(database)]
    assert main(argv) == 0
    return database


@pytest.mark.e2e
def test_demo_shop_has_staff_rewards_and_coupons(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = _demo(tmp_path)
    assert "Staff (console users)" in capsys.readouterr().out
    assert _query(database, "SELECT role, count(*) FROM staff GROUP BY role ORDER BY role") == [
        ("cashier", 5),
        ("manager", 1),
        ("owner", 1),
    ]
    assert _query(database, "SELECT count(*) FROM rewards")[0][0] > 0


@pytest.mark.e2e
def test_chat_as_cashier_on_a_demo_creates_the_staff_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    database = _demo(tmp_path)
    monkeypatch.setenv("CHATCRM_DATABASE_URL", f"sqlite+aiosqlite:///{database}")
    monkeypatch.setattr("sys.stdin", io.StringIO("/quit\n"))
    assert main(["chat", "--as", "cashier", "--user", "cashier-ratchada-2"]) == 0
    assert "chatting as demo cashier" in capsys.readouterr().out
    rows = _query(
        database,
        "SELECT s.role, b.code FROM staff s LEFT JOIN branches b ON b.id = s.branch_id "
        "WHERE s.user_id = 'cashier-ratchada-2'",
    )
    assert rows == [("cashier", "asoke")]  # not a branch code: the first branch


@pytest.mark.e2e
def test_chat_as_owner_uses_the_demo_owner(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    database = _demo(tmp_path)
    monkeypatch.setenv("CHATCRM_DATABASE_URL", f"sqlite+aiosqlite:///{database}")
    monkeypatch.setattr("sys.stdin", io.StringIO("/quit\n"))
    assert main(["chat", "--as", "owner"]) == 0
    assert "chatting as owner 'Owner (เจ้าของร้าน)'" in capsys.readouterr().out
    assert _query(database, "SELECT count(*) FROM staff WHERE role = 'owner'") == [(1,)]


def test_chat_as_staff_on_a_real_shop_points_to_staff_invite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("/quit\n"))
    assert main(["chat", "--as", "manager", "--user", "boss"]) == 2
    assert "chatcrm staff invite --role manager" in capsys.readouterr().err
    assert _query(tmp_path / "shop.db", "SELECT count(*) FROM staff") == [(0,)]
