"""What an import did: counts, and one issue per bad cell with its line number and reason."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Literal

from bot.core.spreadsheet import spreadsheet_row

Severity = Literal["error", "warning"]
REPORT_COLUMNS: Final = ("line", "severity", "column", "value", "reason")


@dataclass(frozen=True, slots=True)
class RowIssue:
    """A problem with one row: an ``error`` row was not imported; a ``warning`` row was, but
    something in it was not taken over (the reason says what)."""

    line: int
    column: str
    value: str
    reason: str
    severity: Severity = "error"


@dataclass
class ImportReport:
    kind: str
    dry_run: bool
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    #: rows deliberately left out (refund receipts, receipts without a customer)
    skipped: int = 0
    #: referral bonuses paid for first purchases the file brought (sales only)
    referrals: int = 0
    issues: list[RowIssue] = field(default_factory=list)

    @property
    def error_rows(self) -> int:
        return len({issue.line for issue in self.issues if issue.severity == "error"})

    @property
    def warnings(self) -> int:
        return sum(1 for issue in self.issues if issue.severity == "warning")

    def error(self, line: int, column: str, value: str, reason: str) -> None:
        self.issues.append(RowIssue(line, column, value, reason, "error"))

    def warning(self, line: int, column: str, value: str, reason: str) -> None:
        self.issues.append(RowIssue(line, column, value, reason, "warning"))

    def sorted_issues(self) -> list[RowIssue]:
        return sorted(self.issues, key=lambda issue: (issue.line, issue.severity, issue.column))

    def write_csv(self, path: Path) -> None:
        """The issues as a CSV the owner can open next to the imported file (a cell that would
        be a formula is written with a leading ``'``, :mod:`bot.core.spreadsheet`)."""
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(REPORT_COLUMNS)
            for issue in self.sorted_issues():
                # the value and the column's name come from the file: shown as text, not run
                writer.writerow(
                    spreadsheet_row(
                        (issue.line, issue.severity, issue.column, issue.value, issue.reason)
                    )
                )
