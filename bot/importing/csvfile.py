"""Reading a POS or spreadsheet CSV: encoding, delimiter, header mapping, numbered records.

What Excel and POS back offices actually produce is accepted: UTF-8 with or without a byte
order mark, UTF-16 with a byte order mark ("Unicode text", usually tab-separated), and commas,
semicolons or tabs as the delimiter (chosen by counting them in the header line). Headers are
matched case-insensitively, ignoring spaces, ``_`` and ``-``; each field lists its known
header names (English POS names such as Loyverse's, and Thai ones) in priority order, and
``--map COLUMN=field`` overrides win over them.

A file that cannot be read at all raises :class:`UnusableFile` before anything is written:
the whole file is decoded and parsed once up front (which also counts the rows for the
progress bar), so a bad byte near the end cannot stop an import half way.
"""

from __future__ import annotations

import codecs
import csv
import operator
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final, NamedTuple

from bot.core.typed import ZERO_WIDTH

#: a ``--map`` target that drops a column the automatic mapping would have used
IGNORE: Final = "ignore"
_HEAD_BYTES: Final = 64 * 1024
_SEPARATORS: Final = re.compile(r"[\s_\-]+")
_INVISIBLE: Final = ZERO_WIDTH
_DELIMITERS: Final = (",", ";", "\t")


class UnusableFile(Exception):
    """The file cannot be imported at all (not text, not CSV, required columns missing)."""


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One field an import understands, with the header names that mean it."""

    name: str
    aliases: tuple[str, ...]
    required: bool = False


class CsvRecord(NamedTuple):
    """One data row: ``line`` is its first line in the file (the header is line 1). A named
    tuple: one is built per row, and a frozen dataclass costs a ``__setattr__`` per field."""

    line: int
    values: Mapping[str, str]

    def get(self, field: str) -> str:
        return self.values.get(field, "")


def normalise_header(text: str) -> str:
    return _SEPARATORS.sub(" ", text.strip(_INVISIBLE + " ").casefold()).strip()


def _encoding(head: bytes) -> str:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if head.startswith(b"PK\x03\x04"):
        raise UnusableFile("this is a workbook (.xlsx), not CSV: save it as 'CSV UTF-8' first")
    return "utf-8"


def _delimiter(header_line: str) -> str:
    counts = {delimiter: header_line.count(delimiter) for delimiter in _DELIMITERS}
    best = max(counts, key=lambda delimiter: counts[delimiter])
    return best if counts[best] else ","


@dataclass(frozen=True)
class CsvSource:
    """A readable CSV file with its columns mapped to fields; iterate :meth:`records`."""

    path: Path
    encoding: str
    delimiter: str
    #: field -> (column index, header as written)
    columns: Mapping[str, tuple[int, str]]
    rows: int

    def records(self) -> Iterator[CsvRecord]:
        """Every non-blank data row, in file order."""
        fields = list(self.columns)
        indexes = [index for index, _ in self.columns.values()]
        width = max(indexes, default=-1) + 1
        # one C call per row for the cells of a row as long as the header (the usual case)
        getter = operator.itemgetter(*indexes)
        pick: Callable[[list[str]], tuple[str, ...]] = (
            getter if len(indexes) > 1 else lambda row: (getter(row),)
        )
        strip = str.strip
        with self.path.open(encoding=self.encoding, newline="") as handle:
            reader = csv.reader(handle, delimiter=self.delimiter)
            next(reader, None)  # the header
            while True:
                first_line = reader.line_num + 1
                row = next(reader, None)
                if row is None:
                    return
                if not "".join(row).strip():  # blank line (whitespace only)
                    continue
                cells: Iterable[str]
                if len(row) >= width:
                    cells = map(strip, pick(row))
                else:  # a short row: the missing cells are empty
                    cells = (row[index].strip() if index < len(row) else "" for index in indexes)
                yield CsvRecord(first_line, dict(zip(fields, cells, strict=True)))

    def header_of(self, field: str) -> str:
        """The column name as written in the file (for error reports)."""
        column = self.columns.get(field)
        return column[1] if column else field


def _map_columns(
    header: Sequence[str], fields: Sequence[FieldSpec], overrides: Mapping[str, str]
) -> dict[str, tuple[int, str]]:
    by_name: dict[str, int] = {}
    for index, name in enumerate(header):
        by_name.setdefault(normalise_header(name), index)
    known = {spec.name for spec in fields}
    columns: dict[str, tuple[int, str]] = {}
    taken: set[int] = set()
    for column, field in overrides.items():
        found = by_name.get(normalise_header(column))
        if found is None:
            raise UnusableFile(f"--map {column}={field}: the file has no column {column!r}")
        if field != IGNORE and field not in known:
            choices = ", ".join(sorted(known | {IGNORE}))
            raise UnusableFile(f"--map {column}={field}: unknown field (use one of {choices})")
        taken.add(found)
        if field != IGNORE:
            columns[field] = (found, header[found])
    for spec in fields:
        if spec.name in columns:
            continue
        for alias in (spec.name, *spec.aliases):
            match = by_name.get(normalise_header(alias))
            if match is not None and match not in taken:
                columns[spec.name] = (match, header[match])
                taken.add(match)
                break
    missing = [spec.name for spec in fields if spec.required and spec.name not in columns]
    if missing:
        raise UnusableFile(
            f"required column(s) missing: {', '.join(missing)} "
            f"(columns found: {', '.join(header)}; use --map COLUMN=field)"
        )
    return columns


def open_csv(
    path: Path, fields: Sequence[FieldSpec], overrides: Mapping[str, str] | None = None
) -> CsvSource:
    """Check that ``path`` is a readable CSV with the required columns; map its headers."""
    try:
        with path.open("rb") as raw:
            head = raw.read(_HEAD_BYTES)
    except OSError as error:
        raise UnusableFile(f"cannot read {path}: {error.strerror or error}") from None
    if not head.strip():
        raise UnusableFile(f"{path} is empty")
    encoding = _encoding(head)
    try:
        with path.open(encoding=encoding, newline="") as handle:
            header_line = handle.readline()
            delimiter = _delimiter(header_line)
            handle.seek(0)
            reader = csv.reader(handle, delimiter=delimiter)
            header = next(reader, [])
            rows = sum(1 for row in reader if "".join(row).strip())
    except UnicodeDecodeError:
        raise UnusableFile(
            f"{path} is not UTF-8 text (UTF-8 with BOM and UTF-16 are read too): "
            "save it as 'CSV UTF-8'"
        ) from None
    except csv.Error as error:
        raise UnusableFile(f"{path} is not a readable CSV file: {error}") from None
    if "\x00" in header_line or not any(cell.strip() for cell in header):
        raise UnusableFile(f"{path} is not a CSV file with a header line")
    return CsvSource(
        path=path,
        encoding=encoding,
        delimiter=delimiter,
        columns=_map_columns(header, fields, overrides or {}),
        rows=rows,
    )


def parse_overrides(pairs: Sequence[str]) -> dict[str, str]:
    """``["Mobile No=phone", "Email=ignore"]`` -> ``{"Mobile No": "phone", ...}``."""
    overrides: dict[str, str] = {}
    for pair in pairs:
        column, separator, field = pair.rpartition("=")
        if not separator or not column.strip() or not field.strip():
            raise UnusableFile(f"--map {pair!r}: write it as COLUMN=field")
        overrides[column.strip()] = field.strip().casefold()
    return overrides
