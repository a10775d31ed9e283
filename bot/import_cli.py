"""``chatcrm import members|sales FILE.csv`` and ``chatcrm export members FILE.csv``.

Exit codes: 0 when the file was processed, also when some rows were bad (they are listed,
with line numbers, and optionally written to ``--errors``); 2 when the file cannot be used at
all (not CSV, not UTF-8/UTF-16, required columns missing, a bad ``--map``). Each real import
and every export is written to the audit log (actor ``cli``): exports carry personal data.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
from rich.table import Table

from bot.config import Settings
from bot.core.errors import CommandError
from bot.importing import ImportReport, UnusableFile, import_members, import_sales
from bot.importing.csvfile import parse_overrides

if TYPE_CHECKING:
    from bot.bootstrap import App

CLI_ACTOR: Final = "cli"
#: issues printed in the terminal; the --errors file always has all of them
SHOWN_ISSUES: Final = 50


class ImportFileError(CommandError):
    """The file cannot be imported at all; the message says why (exit code 2)."""


def add_parser(commands: Any, command: Any) -> None:
    """Add ``import members|sales`` and ``export members`` (``command`` is cli's helper)."""
    imports = commands.add_parser("import", help="bulk import from CSV files")
    kinds = imports.add_subparsers(dest="import_command", metavar="WHAT", required=True)
    members = command("members", run_import, "import or update members from a CSV", at=kinds)
    sales = command("sales", run_import, "import receipts from a CSV (idempotent)", at=kinds)
    for sub in (members, sales):
        sub.add_argument("file", type=Path, metavar="FILE.csv")
        sub.add_argument("--dry-run", action="store_true", help="check everything, write nothing")
        sub.add_argument(
            "--map",
            action="append",
            default=[],
            metavar="COLUMN=FIELD",
            help="use COLUMN for FIELD (or FIELD 'ignore'); repeatable",
        )
        sub.add_argument("--errors", type=Path, metavar="ERRORS.csv", help="write bad rows here")
    sales.add_argument("--branch", metavar="CODE", help="branch of rows that name none")
    sales.add_argument(
        "--no-award-points",
        dest="award_points",
        action="store_false",
        help="store the sales without earning points (the POS balance was imported already)",
    )
    exports = commands.add_parser("export", help="bulk export to CSV files")
    export_kinds = exports.add_subparsers(dest="export_command", metavar="WHAT", required=True)
    what = "export members to a CSV (UTF-8 with BOM, for Excel)"
    export = command("members", run_export, what, at=export_kinds)
    export.add_argument("file", type=Path, metavar="FILE.csv")


def _progress_bar(console: Console) -> Progress:
    return Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


async def _run(app: App, args: argparse.Namespace, update: Callable[[int, int], None]) -> Any:
    from shop.loyalty import load_rules

    kind: str = args.import_command
    now = app.clock.now()
    overrides = parse_overrides(args.map)
    if kind == "members":
        return await import_members(
            app.engine,
            args.file,
            now=now,
            tz=app.settings.tz,
            locale=app.settings.locale,
            dry_run=args.dry_run,
            overrides=overrides,
            progress=update,
        )
    async with app.uow() as uow:
        rules = await load_rules(uow)
    return await import_sales(
        app.engine,
        args.file,
        now=now,
        tz=app.settings.tz,
        points_for=rules.points_for if args.award_points else None,
        branch=args.branch,
        dry_run=args.dry_run,
        overrides=overrides,
        progress=update,
    )


def print_report(console: Console, report: ImportReport, errors_file: Path | None) -> None:
    if report.issues:
        table = Table(title=f"Rows with problems ({report.error_rows} not imported)")
        for column in ("line", "", "column", "value", "reason"):
            table.add_column(column, overflow="fold")
        issues = report.sorted_issues()
        for issue in issues[:SHOWN_ISSUES]:
            table.add_row(str(issue.line), issue.severity, issue.column, issue.value, issue.reason)
        console.print(table)
        if len(issues) > SHOWN_ISSUES:
            more = len(issues) - SHOWN_ISSUES
            hint = f"see {errors_file}" if errors_file else "write them all with --errors FILE"
            console.print(f"… and {more} more ({hint})")
    summary = Table(title=f"Import of {report.kind}", show_header=False)
    summary.add_column("")
    summary.add_column("", justify="right")
    for label, value in (
        ("Rows read", report.rows),
        ("Created", report.created),
        ("Updated", report.updated),
        ("Unchanged", report.unchanged),
        ("Skipped", report.skipped),
        ("Rows with errors", report.error_rows),
        ("Warnings", report.warnings),
    ):
        summary.add_row(label, f"{value:,}")
    if report.referrals:
        summary.add_row("Referral bonuses paid", f"{report.referrals:,}")
    console.print(summary)
    if report.dry_run:
        console.print("Dry run: nothing was written.")
    if errors_file is not None:
        console.print(f"Problems written to {errors_file}")


async def run_import(args: argparse.Namespace, settings: Settings) -> int:
    from bot.bootstrap import bootstrap

    console = Console()
    app = await bootstrap(settings)
    try:
        with _progress_bar(console) as bar:
            task = bar.add_task(f"Importing {args.file.name}", total=None)

            def update(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            try:
                report: ImportReport = await _run(app, args, update)
            except UnusableFile as error:
                raise ImportFileError(str(error)) from None
        if not report.dry_run:
            await _audit(app, f"import_{report.kind}", args.file, report)
    finally:
        await app.close()
    if args.errors is not None:
        report.write_csv(args.errors)
    print_report(console, report, args.errors)
    return 0


async def _audit(app: App, action: str, path: Path, report: ImportReport | None) -> None:
    details: dict[str, Any] = {"file": path.name}
    if report is not None:
        details.update(
            rows=report.rows,
            created=report.created,
            updated=report.updated,
            errors=report.error_rows,
        )
    async with app.uow() as uow:
        await uow.audit.record(CLI_ACTOR, action, app.clock.now(), **details)
        await uow.commit()


async def run_export(args: argparse.Namespace, settings: Settings) -> int:
    from bot.bootstrap import bootstrap
    from shop.loyalty import add_months, load_rules
    from storage.exporting import export_members
    from storage.sqlite_file import require_shop_file

    require_shop_file(settings.database_url)  # not a new, empty shop at a wrong path
    console = Console()
    app = await bootstrap(settings)
    try:
        async with app.uow() as uow:
            rules = await load_rules(uow)
        now = app.clock.now()
        with _progress_bar(console) as bar:
            task = bar.add_task(f"Exporting to {args.file.name}", total=None)
            try:
                count = await export_members(
                    app.engine,
                    args.file,
                    tz=app.settings.tz,
                    tier_since=add_months(now, -rules.tier_window_months),
                    tier_for=lambda held, spend: rules.held_tier(held, spend)[0].name,
                    progress=lambda done: bar.update(task, completed=done),
                )
            except OSError as error:
                raise ImportFileError(f"cannot write {args.file}: {error.strerror}") from None
        await _audit(app, "export_members", args.file, None)
    finally:
        await app.close()
    console.print(f"Exported {count:,} members to {args.file}")
    return 0
