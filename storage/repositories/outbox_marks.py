"""PostgreSQL: a group of accepted outbox rows marked sent with no unit of work.

The dispatcher's outcome writer (``jobs/outcome_writer.py``) marks each group of accepted
requests sent. When no campaign's row is among them, nothing else is written with the marks
(the campaign hook only hears campaigns): the group is then :func:`~storage.repositories.
outbox_statements.mark_sent`'s one statement, whole by itself, and a unit of work around it
(its session, the ``BEGIN`` and the ``COMMIT``, a trip each, SQLAlchemy's execution of the
statement) costs several times what asyncpg's execution of the prepared text costs — as for
the send pace's claim (:class:`~storage.repositories.pace.BareClaims`).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from storage import pg_driver
from storage.along import positional
from storage.repositories import outbox_statements as statements


class BareMarks:
    """:meth:`~storage.repositories.outbox.Outbox.mark_all_sent`'s statement on a pooled
    connection's asyncpg driver, outside any transaction (it commits as it ends). A failure
    is raised as SQLAlchemy raises the driver's error (``storage/pg_driver.py``), the
    connection invalidated when it is found closed."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def mark_all_sent(self, message_ids: Collection[int], now: datetime) -> set[int]:
        """The still-pending ones of ``message_ids`` marked sent; the ids that were pending."""
        values = {"ids": statements.ids_value(self._engine, message_ids), "marked_at": now}
        async with self._engine.connect() as connection:
            sql, parameters = positional(
                statements.mark_sent(self._engine), connection.dialect, values
            )
            driver = (await connection.get_raw_connection()).driver_connection
            rows = await pg_driver.fetch(connection, driver, sql, parameters)
        return {row[0] for row in rows}
