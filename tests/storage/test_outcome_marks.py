"""A group of accepted outbox rows with no campaign among them (receipts, staff alerts): on
PostgreSQL marked sent by one statement on the driver, with no unit of work; the rows and what
each worker hears are as before on both databases."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import update

from bot.bootstrap import App
from bot.core.messages import Reply
from bot.core.wire import replies_to_payload
from jobs.campaign_delivery import outcome_hook
from jobs.delivery_plan import Delivery
from jobs.outcome_writer import OutcomeWriter
from storage.models import OutboxMessage
from storage.raw_session import session_of
from storage.uow import UnitOfWork
from tests.unit.statement_trace import traced
from tests.unit.test_outcome_writer import status


async def _claimed(app: App, *keys: str) -> list[Any]:
    """Rows of no campaign (a receipt's, an alert's), claimed for sending."""
    async with app.uow() as uow:
        for key in keys:
            payload = replies_to_payload([Reply(text=f"🧾 ใบเสร็จ {key}")])
            await uow.outbox.enqueue(key, "telegram", "71", payload, app.clock.now())
        await uow.commit()
        rows = await uow.outbox.claim(app.clock.now(), 100, app.clock.now(), ["telegram"])
        await uow.commit()
    return sorted(rows, key=lambda row: row.dedupe_key)


async def test_accepted_rows_of_no_campaign_are_marked_sent_in_one_statement(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = await _claimed(app, "receipt:1", "receipt:2", "receipt:3")
    async with app.uow() as uow:  # withdrawn while its request was in flight
        await session_of(uow).execute(
            update(OutboxMessage).where(OutboxMessage.id == rows[2].id).values(status="cancelled")
        )
        await uow.commit()
    opened: list[UnitOfWork] = []
    enter = UnitOfWork.__aenter__

    async def counted(self: UnitOfWork) -> UnitOfWork:
        opened.append(self)
        return await enter(self)

    writer = OutcomeWriter(app.uow, app.clock.now, outcome_hook, "th")
    monkeypatch.setattr(UnitOfWork, "__aenter__", counted)
    with traced(app, monkeypatch) as seen:
        results = await asyncio.gather(
            writer.write(Delivery((rows[0],)), "sent"),
            writer.write(Delivery((rows[1],)), "sent"),
            writer.write(Delivery((rows[2],)), "sent"),
        )
    monkeypatch.setattr(UnitOfWork, "__aenter__", enter)

    assert results == [["sent"], ["sent"], ["withdrawn"]]
    assert [await status(app, f"receipt:{n}") for n in (1, 2, 3)] == ["sent", "sent", "cancelled"]
    if app.engine.dialect.name == "postgresql":
        assert opened == []
        assert [(how, sql.split()[0]) for how, sql in seen] == [("driver", "UPDATE")]


async def test_a_refused_mark_is_the_database_error_every_waiting_worker_hears(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    if app.engine.dialect.name != "postgresql":
        pytest.skip("the bare marks are PostgreSQL's")
    from sqlalchemy.exc import DBAPIError

    (row,) = await _claimed(app, "receipt:9")
    writer = OutcomeWriter(app.uow, app.clock.now, outcome_hook, "th")

    async def broken(*_args: Any) -> Any:
        raise DBAPIError("UPDATE outbox", (), Exception("the database is away"))

    monkeypatch.setattr("storage.pg_driver.fetch", broken)
    with pytest.raises(DBAPIError):
        await writer.write(Delivery((row,)), "sent")
    monkeypatch.undo()
    assert await status(app, "receipt:9") == "pending"  # not marked: tried again later
