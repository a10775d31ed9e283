"""Driving an import: batches of records, one transaction per batch, or one rolled back.

A real run commits after every batch: a running bot is kept waiting on SQLite's write lock for
one batch at most, and an interrupted import keeps its finished batches (re-running it
finishes the rest, since imports are idempotent). A dry run writes every batch into one
transaction and rolls it back at the end, so its validation is real (constraints, look-ups,
duplicates across batches) and nothing stays.

Reading and checking the rows is most of an import's own work, and it needs nothing from the
database, so the next batch is read while the previous one is being committed: the commit runs
as a task on the connection (the database writes its log in another thread or process), and
the reading hands control back every :data:`SLICE` rows so the commit's completion is noticed
soon. The batch's statements themselves run before the reading starts: on SQLite the driver
needs the interpreter lock for every row of an ``executemany``, and reading beside them slowed
both down. Batches are still written one after the other, in file order, each in its own
transaction, and the next batch starts writing only after the previous commit succeeded.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Iterable, Iterator
from typing import Final, Protocol, TypeVar

from bot.importing.csvfile import CsvRecord, CsvSource, normalise_header
from bot.importing.report import ImportReport
from storage.branch_names import BranchNames
from storage.bulk.importing import branch_names
from storage.db import Database, DatabaseConnection

#: (rows done, rows in the file)
Progress = Callable[[int, int], None]

BATCH_SIZE: Final = 1_000
#: rows read and checked between two looks at the commit in flight
SLICE: Final = 50

T = TypeVar("T")
R = TypeVar("R")


class BatchWriter(Protocol[R]):
    """What an import does with its rows: check one (``parse``: None after reporting why it
    is not written; called in file order) and store a batch of checked rows (``write``, in the
    connection's open transaction)."""

    def parse(self, record: CsvRecord, report: ImportReport) -> R | None: ...

    async def write(
        self, connection: DatabaseConnection, rows: list[R], report: ImportReport
    ) -> None: ...


def batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


async def run_batches(
    engine: Database,
    source: CsvSource,
    writer: BatchWriter[R],
    report: ImportReport,
    *,
    progress: Progress | None = None,
    batch_size: int = BATCH_SIZE,
) -> ImportReport:
    """Feed ``source`` to ``writer`` batch by batch; commit each unless ``report.dry_run``."""
    done = 0
    if progress is not None:
        progress(done, source.rows)
    slice_size = max(1, min(SLICE, batch_size))

    async def commit() -> None:
        if not report.dry_run:
            await connection.commit()

    async def finish(committing: asyncio.Task[None], count: int) -> None:
        nonlocal done
        await committing
        done += count
        report.rows = done
        if progress is not None:
            progress(done, source.rows)

    async with engine.connect() as connection:
        committing: asyncio.Task[None] | None = None
        written = 0  # records in the batch being committed
        try:
            records = source.records()
            while True:
                rows: list[R] = []
                count = 0
                for piece in batched(itertools.islice(records, batch_size), slice_size):
                    rows += [row for r in piece if (row := writer.parse(r, report)) is not None]
                    count += len(piece)
                    await asyncio.sleep(0)  # lets the commit in flight finish
                if committing is not None:
                    await finish(committing, written)
                    committing = None
                if not count:
                    break
                await writer.write(connection, rows, report)
                committing = asyncio.create_task(commit())
                written = count
        finally:
            if committing is not None:
                # a commit still in flight (reading failed or was cancelled) ends before the
                # connection is rolled back; the error already raised is the one reported
                await asyncio.wait([committing])
                if not committing.cancelled():
                    committing.exception()
            # a dry run's writes, or a batch that failed half way, go; committed batches stay
            await connection.rollback()
    return report


async def branch_lookup(connection: DatabaseConnection) -> BranchNames:
    """The shop's branches by code, Thai name and English name, compared like headers are (a
    code names its branch only, a name two branches share names neither)."""
    return BranchNames(await branch_names(connection), normalise_header)
