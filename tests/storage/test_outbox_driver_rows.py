"""The outbox's INSERT on the driver (``Outbox.enqueue``, ``storage/direct.py``) writes exactly
the row SQLAlchemy's execution of the old statement wrote (every column, the model's defaults
included, on SQLite and PostgreSQL), tells a duplicate key as before, and is undone with the
savepoint it ran in."""

from __future__ import annotations

from typing import Any

from sqlalchemy import literal_column, select

from bot.bootstrap import App
from storage.models import OutboxMessage, table_of
from storage.raw_session import session_of
from storage.upsert import insert_once
from tests.unit.test_bus_hot_path import first_words

_TABLE = table_of(OutboxMessage)
THAI = "แจ้งเตือนพนักงาน 🌸"


async def _row(app: App, dedupe_key: str) -> dict[str, Any]:
    """Every column of the row of ``dedupe_key`` but its id, as a fresh read gives them."""
    async with app.uow() as uow:
        query = select(_TABLE).where(_TABLE.c.dedupe_key == dedupe_key)
        found = (await session_of(uow).execute(query)).one()
    values = dict(found._mapping)
    del values["id"]
    return values


def _typed(values: dict[str, Any]) -> dict[str, tuple[Any, type]]:
    return {name: (value, type(value)) for name, value in values.items()}


async def _begun(session: Any) -> None:
    """The transaction begun as every event's arrival begins it (PostgreSQL's driver path runs
    only after that)."""
    await session.execute(select(literal_column("1")))


def _old_values(key: str, now: Any, retry_key: str) -> dict[str, Any]:
    """What ``Outbox.enqueue`` gave the old statement (``insert_once``): every column but
    ``id`` and ``sent_at``, SQLAlchemy's execution filling in the rest."""
    return {
        "dedupe_key": key,
        "channel": "telegram",
        "user_id": "42",
        "member_id": None,
        "promotional": False,
        "payload": {"v": 1, "text": THAI, "replies": []},
        "status": "pending",
        "attempts": 0,
        "retry_key": retry_key,
        "not_before": now,
        "created_at": now,
        "priority": 0,
        "error": None,
    }


async def test_a_row_enqueued_on_the_driver_is_the_row_the_old_statement_wrote(
    app: App,
) -> None:
    now = app.clock.now()
    payload = {"v": 1, "text": THAI, "replies": []}
    async with app.uow() as uow:
        session = session_of(uow)
        await _begun(session)
        with first_words(app) as statements:
            assert await uow.outbox.enqueue("k:new", "telegram", "42", payload, now)
        assert uow.outbox.enqueued == 1
        await uow.commit()
    assert statements == []  # not through SQLAlchemy's execution
    mine = await _row(app, "k:new")
    async with app.uow() as uow:  # the old path: SQLAlchemy's execution, its defaults
        old = _old_values("k:old", now, mine["retry_key"])
        assert await insert_once(session_of(uow), OutboxMessage, old, ["dedupe_key"])
        await uow.commit()
    theirs = await _row(app, "k:old")
    assert mine.keys() == {column.name for column in _TABLE.c} - {"id"}
    assert _typed({**mine, "dedupe_key": None}) == _typed({**theirs, "dedupe_key": None})
    assert (mine["status"], mine["attempts"], mine["sent_at"]) == ("pending", 0, None)


async def test_a_failed_row_on_the_driver_is_the_row_the_old_statement_wrote(app: App) -> None:
    """The non-default values (a member, a promotion, a failure, a priority) as well."""
    now = app.clock.now()
    async with app.uow() as uow:
        await _begun(session_of(uow))
        queued = await uow.outbox.enqueue(
            "k:new", "line", "U1", {"v": 1}, now, promotional=True, priority=1,
            status="failed", error="x" * 600,
        )  # fmt: skip
        assert queued
        await uow.commit()
    mine = await _row(app, "k:new")
    old = {
        **_old_values("k:old", now, mine["retry_key"]),
        "channel": "line",
        "user_id": "U1",
        "payload": {"v": 1},
        "promotional": True,
        "priority": 1,
        "status": "failed",
        "attempts": 1,
        "error": "x" * 500,
    }
    async with app.uow() as uow:
        assert await insert_once(session_of(uow), OutboxMessage, old, ["dedupe_key"])
        await uow.commit()
    theirs = await _row(app, "k:old")
    assert _typed({**mine, "dedupe_key": None}) == _typed({**theirs, "dedupe_key": None})


async def test_a_duplicate_key_on_the_driver_writes_nothing_and_says_so(app: App) -> None:
    now = app.clock.now()
    async with app.uow() as uow:
        await _begun(session_of(uow))
        assert await uow.outbox.enqueue("k:1", "telegram", "42", {"v": 1}, now)
        await uow.commit()
    before = await _row(app, "k:1")
    async with app.uow() as uow:
        await _begun(session_of(uow))
        with first_words(app) as statements:
            again = await uow.outbox.enqueue("k:1", "telegram", "43", {"v": 2}, now)
        assert again is False
        assert uow.outbox.enqueued == 0  # the dispatcher is not woken for it
        await uow.commit()
    assert statements == []
    assert await _row(app, "k:1") == before
    async with app.uow() as uow:
        count = await session_of(uow).scalar(select(literal_column("count(*)")).select_from(_TABLE))
    assert count == 1


async def test_the_first_statement_of_the_unit_of_work_goes_through_sqlalchemy(app: App) -> None:
    """Before the transaction has begun (PostgreSQL) the same statement runs as usual."""
    now = app.clock.now()
    async with app.uow() as uow:
        assert await uow.outbox.enqueue("k:1", "telegram", "42", {"v": 1}, now)
        assert not await uow.outbox.enqueue("k:1", "telegram", "42", {"v": 1}, now)
        assert uow.outbox.enqueued == 1
        await uow.commit()
    assert (await _row(app, "k:1"))["status"] == "pending"


async def test_an_enqueue_inside_a_rolled_back_savepoint_is_undone(app: App) -> None:
    now = app.clock.now()
    async with app.uow() as uow:
        session = session_of(uow)
        await _begun(session)
        assert await uow.outbox.enqueue("k:kept", "telegram", "42", {"v": 1}, now)
        savepoint = await session.begin_nested()
        assert await uow.outbox.enqueue("k:undone", "telegram", "42", {"v": 1}, now)
        await savepoint.rollback()
        # the key is free again: the row went with the savepoint
        assert await uow.outbox.enqueue("k:undone", "telegram", "43", {"v": 2}, now)
        await uow.commit()
    assert (await _row(app, "k:kept"))["user_id"] == "42"
    assert (await _row(app, "k:undone"))["user_id"] == "43"
