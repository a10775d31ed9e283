"""Driving an import: batches of records, one transaction per batch, or one rolled back.

A real run commits after every batch: a running bot is kept waiting on SQLite's write lock for
one batch at most, and an interrupted import keeps its finished batches (re-running it
finishes the rest, since imports are idempotent). A dry run writes every batch into one
transaction and rolls it back at the end, so its validation is real (constraints, look-ups,
duplicates across batches) and nothing stays.
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable, Iterable, Iterator
from typing import Final, TypeVar

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.importing.csvfile import CsvRecord, CsvSource, normalise_header
from bot.importing.report import ImportReport
from storage.models import Branch

#: (rows done, rows in the file)
Progress = Callable[[int, int], None]
BatchWriter = Callable[[AsyncConnection, list[CsvRecord], ImportReport], Awaitable[None]]

BATCH_SIZE: Final = 1_000
_BRANCHES: Table = Branch.__table__  # type: ignore[assignment]

T = TypeVar("T")


def batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


async def run_batches(
    engine: AsyncEngine,
    source: CsvSource,
    write: BatchWriter,
    report: ImportReport,
    *,
    progress: Progress | None = None,
    batch_size: int = BATCH_SIZE,
) -> ImportReport:
    """Feed ``source`` to ``write`` batch by batch; commit each unless ``report.dry_run``."""
    done = 0
    if progress is not None:
        progress(done, source.rows)
    async with engine.connect() as connection:
        try:
            for batch in batched(source.records(), batch_size):
                await write(connection, batch, report)
                if not report.dry_run:
                    await connection.commit()
                done += len(batch)
                report.rows = done
                if progress is not None:
                    progress(done, source.rows)
        finally:
            # a dry run's writes, or a batch that failed half way, go; committed batches stay
            await connection.rollback()
    return report


async def branch_lookup(connection: AsyncConnection) -> dict[str, int]:
    """Branch id by code, Thai name and English name, compared like headers are."""
    rows = await connection.execute(
        select(_BRANCHES.c.id, _BRANCHES.c.code, _BRANCHES.c.name_th, _BRANCHES.c.name_en)
    )
    lookup: dict[str, int] = {}
    for branch_id, *names in rows:
        for name in names:
            lookup.setdefault(normalise_header(name), int(branch_id))
    return lookup
