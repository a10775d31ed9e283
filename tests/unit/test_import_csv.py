"""Reading import files: encodings, delimiters, header mapping, line numbers, cell values."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.importing import members, sales, values
from bot.importing.csvfile import UnusableFile, open_csv, parse_overrides
from bot.importing.sales import customer_key

NOW = datetime(2026, 3, 3, 7, 30, tzinfo=UTC)
BANGKOK = ZoneInfo("Asia/Bangkok")


def _file(tmp_path: Path, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / "in.csv"
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-be"])
def test_thai_headers_are_read_in_every_excel_encoding(tmp_path: Path, encoding: str) -> None:
    text = "ชื่อ,เบอร์โทร\nพลอย,0891112222\n"
    raw = text.encode(encoding)
    if encoding == "utf-16-be":
        raw = b"\xfe\xff" + raw
    path = tmp_path / "in.csv"
    path.write_bytes(raw)
    source = open_csv(path, members.FIELDS)
    assert [dict(record.values) for record in source.records()] == [
        {"name": "พลอย", "phone": "0891112222"}
    ]


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_the_delimiter_is_taken_from_the_header(tmp_path: Path, delimiter: str) -> None:
    path = _file(tmp_path, f"Name{delimiter}Phone\nA B{delimiter}0891112222\n")
    record = next(open_csv(path, members.FIELDS).records())
    assert record.get("phone") == "0891112222"


def test_line_numbers_count_the_header_and_multiline_cells(tmp_path: Path) -> None:
    path = _file(tmp_path, 'name,phone,note\nA,0891112222,"two\nlines"\n\nB,0891112223,\n')
    source = open_csv(path, members.FIELDS)
    assert [record.line for record in source.records()] == [2, 5]
    assert source.rows == 2


def test_headers_match_ignoring_case_spaces_and_underscores(tmp_path: Path) -> None:
    path = _file(tmp_path, "CUSTOMER_NAME, Points-Balance ,PHONE\nA,5,0891112222\n")
    source = open_csv(path, members.FIELDS)
    assert set(source.columns) == {"name", "points", "phone"}
    assert source.header_of("points") == " Points-Balance "


def test_net_sales_is_preferred_over_gross_sales(tmp_path: Path) -> None:
    path = _file(tmp_path, "Receipt number,Date,Gross sales,Net sales,Customer contacts\n")
    assert open_csv(path, sales.FIELDS).header_of("amount") == "Net sales"


def test_an_override_can_point_at_another_column(tmp_path: Path) -> None:
    path = _file(tmp_path, "Name,Phone,Mobile\nA,,0891112222\n")
    source = open_csv(path, members.FIELDS, parse_overrides(["Mobile=phone", "Phone=ignore"]))
    assert next(source.records()).get("phone") == "0891112222"


@pytest.mark.parametrize("pair", ["phone", "=phone", "Mobile="])
def test_a_malformed_override_is_refused(pair: str) -> None:
    with pytest.raises(UnusableFile, match="COLUMN=field"):
        parse_overrides([pair])


def test_an_override_of_a_missing_column_is_refused(tmp_path: Path) -> None:
    path = _file(tmp_path, "Name,Phone\n")
    with pytest.raises(UnusableFile, match="no column 'Tel'"):
        open_csv(path, members.FIELDS, {"Tel": "phone"})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("02/03/2569 14:05", datetime(2026, 3, 2, 7, 5, tzinfo=UTC)),
        ("2/3/2026 2:05 PM", datetime(2026, 3, 2, 7, 5, tzinfo=UTC)),
        ("2026-03-02 14:05", datetime(2026, 3, 2, 7, 5, tzinfo=UTC)),
        ("2026-03-02T14:05:00+07:00", datetime(2026, 3, 2, 7, 5, tzinfo=UTC)),
        ("2569-03-02 14:05", datetime(2026, 3, 2, 7, 5, tzinfo=UTC)),
        ("๐๒/๐๓/๒๕๖๙", datetime(2026, 3, 1, 17, 0, tzinfo=UTC)),
    ],
)
def test_sale_times_in_thai_and_iso_forms(text: str, expected: datetime) -> None:
    assert values.moment(text, BANGKOK, NOW) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("02/03/69 14:05", "four digits"),
        ("31/02/2026", "no such date"),
        ("yesterday", "not a date"),
        ("2027-01-01", "future"),
    ],
)
def test_bad_sale_times_say_why(text: str, reason: str) -> None:
    with pytest.raises(values.CellError, match=reason):
        values.moment(text, BANGKOK, NOW)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1,250.50", Decimal("1250.50")), ("฿95", Decimal("95.00")), ("120 บาท", Decimal("120.00"))],
)
def test_amounts(text: str, expected: Decimal) -> None:
    assert values.amount(text) == expected


@pytest.mark.parametrize("text", ["0", "-5", "12.345", "abc", "NaN"])
def test_bad_amounts(text: str) -> None:
    with pytest.raises(values.CellError):
        values.amount(text)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("9" * 30, "implausibly large"),  # more digits than the decimal context holds
        ("9" * 30 + ".50", "implausibly large"),
        ("1." + "0" * 30 + "1", "two decimals"),
    ],
)
def test_amounts_of_many_digits_say_why(text: str, reason: str) -> None:
    with pytest.raises(values.CellError, match=reason):
        values.amount(text)


@pytest.mark.parametrize("text", ["-1", "2.5", "many"])
def test_bad_points(text: str) -> None:
    with pytest.raises(values.CellError):
        values.points(text)


def test_tags_are_split_deduplicated_and_capped() -> None:
    assert values.tags("vip; student|vip ,  ") == ("vip", "student")
    with pytest.raises(values.CellError, match="longer than 40"):
        values.tags("x" * 41)


def test_a_customer_cell_with_phone_and_email_gives_the_phone() -> None:
    assert customer_key("somying@example.com, 081-234-5678") == ("phone", "+66812345678")
    assert customer_key("CRM:ABCD2345") == ("code", "ABCD2345")
    with pytest.raises(values.CellError):
        customer_key("walk-in")


def test_the_spreadsheet_formula_guard_is_removed_from_names() -> None:
    assert values.name("'=SUM(A1)") == "=SUM(A1)"
    assert values.name("O'Neil") == "O'Neil"


def test_a_short_row_has_its_missing_cells_empty_and_cells_are_trimmed(tmp_path: Path) -> None:
    path = _file(tmp_path, "name,phone,points,note\n A ,0891112222\nB,0891112223,5, hi \n")
    records = [dict(record.values) for record in open_csv(path, members.FIELDS).records()]
    assert records == [
        {"phone": "0891112222", "name": "A", "points": "", "note": ""},
        {"phone": "0891112223", "name": "B", "points": "5", "note": "hi"},
    ]


def test_a_remembered_parser_parses_each_good_text_once_and_bad_text_every_time() -> None:
    calls: list[str] = []

    def amount(text: str) -> Decimal:
        calls.append(text)
        return values.amount(text)

    remembered = values.Remembered(amount, limit=2)
    assert [remembered(text) for text in ("95", "95", "1,250")] == [
        Decimal("95.00"),
        Decimal("95.00"),
        Decimal("1250.00"),
    ]
    for _ in range(2):
        with pytest.raises(values.CellError):
            remembered("abc")
    assert remembered("7") == Decimal("7.00")  # past the limit: parsed, not kept
    assert remembered("7") == Decimal("7.00")
    assert calls == ["95", "1,250", "abc", "abc", "7", "7"]
