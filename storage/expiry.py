"""Deleting what expired a bounded batch at a time (housekeeping, ``jobs/housekeeping.py``).

After an outage, or on a shop's first housekeeping after an upgrade, a table may hold a backlog
many times a day's worth. One DELETE of all of it would hold the write lock for as long as it
runs (SQLite has one writer, and every webhook waits for it): housekeeping deletes at most
:data:`BATCH` rows per statement instead, each batch in its own short transaction.
"""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy import ColumnElement, delete, inspect, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

#: the most rows one statement of housekeeping deletes
BATCH: Final = 5_000


async def delete_some(
    session: AsyncSession, model: type[Any], where: ColumnElement[bool], limit: int
) -> int:
    """Delete at most ``limit`` rows of ``model`` that match ``where``; how many went.

    The rows are chosen by primary key in a subquery that passes over rows another transaction
    holds (``FOR UPDATE SKIP LOCKED`` on PostgreSQL): two housekeepings running at once delete
    different rows and neither waits for the other. SQLite lets one writer in at a time, so
    there is nothing to pass over there (and it renders no ``FOR UPDATE``).
    """
    keys = list(inspect(model).primary_key)
    chosen = select(*keys).where(where).limit(limit).with_for_update(skip_locked=True)
    key = keys[0] if len(keys) == 1 else tuple_(*keys)
    result = await session.execute(
        delete(model).where(key.in_(chosen)).execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
