"""Bulk import of members and sales from CSV files (``chatcrm import members|sales``).

The entry points here take an engine and a file and return an :class:`ImportReport`; the CLI
(:mod:`bot.import_cli`) adds the progress bar, the tables and the exit codes. Good rows are
written, bad rows are reported with their line number, column and reason, and a second run of
the same file changes nothing. See :mod:`bot.importing.members` and
:mod:`bot.importing.sales` for the decisions each import makes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.importing import members, sales
from bot.importing.csvfile import UnusableFile, open_csv
from bot.importing.referrals import pay_first_purchase_referrals
from bot.importing.report import ImportReport, RowIssue
from bot.importing.run import BATCH_SIZE, Progress, branch_lookup, run_batches
from bot.importing.values import branch_shared
from storage.branch_names import SharedBranchName, UnknownBranch
from storage.bulk.importing import branch_ids
from storage.db import Database

__all__ = [
    "ImportReport",
    "RowIssue",
    "UnusableFile",
    "import_members",
    "import_sales",
]


async def import_members(
    engine: Database,
    path: Path,
    *,
    now: datetime,
    tz: ZoneInfo,
    locale: str = "th",
    dry_run: bool = False,
    overrides: Mapping[str, str] | None = None,
    progress: Progress | None = None,
    batch_size: int = BATCH_SIZE,
) -> ImportReport:
    """Upsert the members of ``path`` by phone (raises UnusableFile for an unusable file)."""
    source = open_csv(path, members.FIELDS, overrides)
    async with engine.connect() as connection:
        branches = await branch_lookup(connection)
    writer = members.MemberImport(source, now=now, tz=tz, locale=locale, branches=branches)
    report = ImportReport("members", dry_run)
    return await run_batches(
        engine, source, writer, report, progress=progress, batch_size=batch_size
    )


async def import_sales(
    engine: Database,
    path: Path,
    *,
    now: datetime,
    tz: ZoneInfo,
    points_for: Callable[[Decimal], int] | None,
    branch: str | None = None,
    dry_run: bool = False,
    overrides: Mapping[str, str] | None = None,
    progress: Progress | None = None,
    batch_size: int = BATCH_SIZE,
) -> ImportReport:
    """Insert the receipts of ``path`` not stored yet; ``points_for`` None awards no points;
    then pay the referral bonuses their first purchases earned (not in a dry run).

    ``branch`` (code or name) is used for rows without a branch; when the shop has exactly one
    branch it is the default anyway.
    """
    source = open_csv(path, sales.FIELDS, overrides)
    async with engine.connect() as connection:
        branches = await branch_lookup(connection)
        ids = await branch_ids(connection)
    default = ids[0] if len(ids) == 1 else None
    if branch is not None:
        try:
            default = branches.id_of(branch)
        except SharedBranchName as shared:
            raise UnusableFile(f"--branch {branch}: {branch_shared(shared)}") from None
        except UnknownBranch:
            raise UnusableFile(f"--branch {branch}: no such branch") from None
    writer = sales.SaleImport(
        source,
        now=now,
        tz=tz,
        branches=branches,
        default_branch_id=default,
        points_for=points_for,
    )
    report = ImportReport("sales", dry_run)
    await run_batches(engine, source, writer, report, progress=progress, batch_size=batch_size)
    if not dry_run:
        report.referrals = await pay_first_purchase_referrals(engine, writer.customers, now, tz)
    return report
