from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import Table, and_, bindparam, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ClauseElement, Executable

from storage.along import one_trip_driver, send_along
from storage.expiry import BATCH, delete_some
from storage.models import ProcessedEvent, table_of
from storage.sqlite_driver import Along

#: how long processed event ids are kept: far longer than any redelivery (LINE documents no
#: window and redelivers for hours; Telegram keeps an undelivered update at most 24 hours).
#: LINE events older than ``bot.channels.line.MAX_EVENT_AGE`` (7 days) are refused by their
#: signed timestamp, so a LINE body replayed after its row is forgotten is still refused.
EVENT_MEMORY: Final = timedelta(days=30)
#: Telegram may restart ``update_id`` at a random value after a week without updates: its
#: ids (``tg:<update_id>``) are forgotten well before that, so a restarted sequence never
#: meets a remembered id, and still long after Telegram's 24-hour redelivery ends (issue 15,
#: item 12). Housekeeping runs daily, so a row goes between 3 and 4 days old.
TELEGRAM_EVENT_MEMORY: Final = timedelta(days=3)
TELEGRAM_PREFIX: Final = "tg:"


def _record(insert: Callable[[Table], postgresql.Insert | sqlite.Insert]) -> Executable:
    """``INSERT … ON CONFLICT (event_key) DO NOTHING RETURNING event_key`` with bound values."""
    table = table_of(ProcessedEvent)
    return (
        insert(table)
        .values(
            event_key=bindparam("event_key", type_=table.c.event_key.type),
            processed_at=bindparam("processed_at", type_=table.c.processed_at.type),
        )
        .on_conflict_do_nothing(index_elements=["event_key"])
        .returning(table.c.event_key)
    )


#: built once per dialect (as ``storage.upsert.insert_once`` would build it on every call):
#: every webhook event runs it, and building it costs more Python than executing it
RECORD: Final = {"postgresql": _record(postgresql.insert), "sqlite": _record(sqlite.insert)}


class EventLog:
    """Remembers which webhook events were handled, so a redelivery has no second effect."""

    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def first_time(self, event_key: str, now: datetime) -> bool:
        """Record ``event_key``; False if it was already recorded (by this or a concurrent event).

        One ``INSERT … ON CONFLICT DO NOTHING RETURNING`` (a single round trip on the hot path of
        every webhook): a concurrent delivery of the same event waits on the primary key until
        the first one's transaction ends, then inserts nothing (it committed) or takes over (it
        rolled back), so exactly one of them goes on to do the work. No error is raised, so the
        surrounding transaction needs no savepoint for the duplicate case.
        """
        statement = RECORD[self._s.get_bind().dialect.name]
        params = {"event_key": event_key, "processed_at": now}
        return (await self._s.execute(statement, params)).first() is not None

    async def first_time_along(self, event_key: str, now: datetime) -> Callable[[], bool] | None:
        """:meth:`first_time`'s INSERT, sent with the session's next statement on SQLite's
        one-trip driver; the function returned tells, once that statement ran, whether the
        event is new. None on another driver: the caller awaits :meth:`first_time`.

        Every webhook event records its id, then reads its author (``Identities.arrive``):
        the two go in one trip, and the INSERT skips SQLAlchemy's statement execution.
        """
        driver = await one_trip_driver(self._s)
        if driver is None:
            return None
        statement = RECORD["sqlite"]
        assert isinstance(statement, ClauseElement)
        along = Along()
        send_along(driver, statement, {"event_key": event_key, "processed_at": now}, along)

        def recorded() -> bool:
            if along.rows is None:
                raise RuntimeError("the event id's INSERT waits for a statement that never ran")
            return bool(along.rows)

        return recorded

    async def forget_expired(self, now: datetime, limit: int = BATCH) -> int:
        """Forget at most ``limit`` of the events handled more than :data:`EVENT_MEMORY` before
        ``now``, Telegram's more than :data:`TELEGRAM_EVENT_MEMORY` before; how many (fewer
        than ``limit``: none are left, or another housekeeping holds them)."""
        telegram = and_(
            ProcessedEvent.event_key.startswith(TELEGRAM_PREFIX, autoescape=True),
            ProcessedEvent.processed_at < now - TELEGRAM_EVENT_MEMORY,
        )
        expired = or_(ProcessedEvent.processed_at < now - EVENT_MEMORY, telegram)
        return await delete_some(self._s, ProcessedEvent, expired, limit)

    async def seen(self, event_key: str) -> bool:
        row = await self._s.execute(
            select(ProcessedEvent.event_key).where(ProcessedEvent.event_key == event_key)
        )
        return row.first() is not None
