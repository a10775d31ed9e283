"""The inbox's hot-path statements on the driver (``storage/direct.py``) write and read exactly
the rows the ORM writes and reads: every column, the model's defaults included, on SQLite and
PostgreSQL; and what they read is the session's own object of the row."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import literal_column, select

from bot.bootstrap import App
from storage.models import InboxMessage, InboxThread, table_of
from storage.raw_session import session_of
from tests.unit.staff_support import ensure_branch, make_member
from tests.unit.test_bus_hot_path import first_words

THAI = "ยังอยู่ไหมคะ 🌸"


async def _row(app: App, model: Any, row_id: int) -> dict[str, Any]:
    """Every column of ``model``'s row ``row_id`` but its id, as a fresh read gives them."""
    table = table_of(model)
    async with app.uow() as uow:
        found = (await session_of(uow).execute(select(table).where(table.c.id == row_id))).one()
    values = dict(found._mapping)
    del values["id"]
    return values


async def _typed(values: dict[str, Any]) -> list[tuple[str, Any, type]]:
    return [(name, value, type(value)) for name, value in values.items()]


async def _author(app: App) -> tuple[int, int, int]:
    """(identity id, member id, branch id) of a member writing from Telegram."""
    branch = await ensure_branch(app, "B1")
    member = await make_member(app, user_id="U1")
    async with app.uow() as uow:
        identity = await uow.identities.get("telegram", "U1")
        assert identity is not None
        return identity.id, member.id, branch


async def _begun(session: Any) -> None:
    """The transaction begun as every event's arrival begins it (PostgreSQL's driver path runs
    only after that)."""
    await session.execute(select(literal_column("1")))


async def test_a_thread_opened_on_the_driver_is_the_row_the_orm_writes(app: App) -> None:
    identity_id, member_id, branch_id = await _author(app)
    now = app.clock.now()
    async with app.uow() as uow:
        session = session_of(uow)
        await _begun(session)
        with first_words(app) as statements:
            ours = await uow.inbox.open_thread(identity_id, member_id, branch_id, now)
        # the ORM's own row of the same thread: the model's defaults (status) fill in
        theirs = InboxThread(
            identity_id=identity_id,
            member_id=member_id,
            branch_id=branch_id,
            opened_at=now,
            last_message_at=now,
        )
        session.add(theirs)
        await session.flush()
        # the object returned is the session's own, as loaded
        assert await session.get(InboxThread, ours.id) is ours
        assert ours not in session.dirty
        assert ours not in session.new
        assert (ours.status, ours.opened_at, ours.first_response_at) == ("open", now, None)
        ours_id, theirs_id = ours.id, theirs.id
        await uow.commit()

    assert statements == []  # not through SQLAlchemy's execution
    assert ours_id != theirs_id
    mine, orm = await _row(app, InboxThread, ours_id), await _row(app, InboxThread, theirs_id)
    assert mine.keys() == {column.name for column in table_of(InboxThread).c} - {"id"}
    assert await _typed(mine) == await _typed(orm)


async def test_a_message_received_on_the_driver_is_the_row_the_orm_writes(app: App) -> None:
    identity_id, member_id, branch_id = await _author(app)
    now = app.clock.now()
    async with app.uow() as uow:
        thread = await uow.inbox.open_thread(identity_id, member_id, branch_id, now)
        await uow.commit()
    later = now + timedelta(minutes=3)
    async with app.uow() as uow:
        session = session_of(uow)
        found, last = await uow.inbox.open_thread_and_last_direction(identity_id)
        assert found is not None
        assert last is None
        with first_words(app) as statements:
            ours = await uow.inbox.receive(found, identity_id, THAI, later, "token-1")
        # the ORM's own row of the same message: the model's defaults (direction, status,
        # staff_id) fill in
        theirs = InboxMessage(
            thread_id=thread.id,
            identity_id=identity_id,
            member_id=member_id,
            text=THAI,
            reply_token="token-1",
            received_at=later,
        )
        session.add(theirs)
        await session.flush()
        ours_id, theirs_id = ours.id, theirs.id
        assert found.last_message_at == later  # shown as stored
        await uow.commit()

    # on SQLite the thread's UPDATE waits for the commit; on PostgreSQL it runs on asyncpg
    assert statements == []
    mine, orm = await _row(app, InboxMessage, ours_id), await _row(app, InboxMessage, theirs_id)
    assert mine.keys() == {column.name for column in table_of(InboxMessage).c} - {"id"}
    assert await _typed(mine) == await _typed(orm)
    assert (mine["direction"], mine["status"], mine["text"]) == ("in", "open", THAI)
    stored = await _row(app, InboxThread, thread.id)
    assert stored["last_message_at"] == later


async def test_the_open_thread_read_on_the_driver_is_the_sessions_object_of_the_row(
    app: App,
) -> None:
    identity_id, member_id, branch_id = await _author(app)
    now = app.clock.now()
    async with app.uow() as uow:
        thread = await uow.inbox.open_thread(identity_id, None, branch_id, now)
        await uow.inbox.receive(thread, identity_id, "hello", now)
        await uow.commit()
    expected = await _row(app, InboxThread, thread.id)

    async with app.uow() as uow:
        session = session_of(uow)
        await _begun(session)
        with first_words(app) as statements:
            found, last = await uow.inbox.open_thread_and_last_direction(identity_id)
        assert statements == []
        assert found is not None
        assert last == "in"
        assert {name: getattr(found, name) for name in expected} == expected
        assert await session.get(InboxThread, found.id) is found  # no second object, no read
        found.member_id = member_id  # a change to it is the session's to flush
        await uow.commit()
    assert (await _row(app, InboxThread, thread.id))["member_id"] == member_id

    async with app.uow() as uow:  # a thread the session already holds is the one returned
        held = await uow.inbox.thread(thread.id)
        again, _ = await uow.inbox.open_thread_and_last_direction(identity_id)
        assert again is held


async def test_a_thread_opened_in_a_savepoint_rolled_back_leaves_no_object_behind(
    app: App,
) -> None:
    identity_id, member_id, branch_id = await _author(app)
    now = app.clock.now()
    async with app.uow() as uow:
        await _begun(session_of(uow))
        gone: list[int] = []
        with pytest.raises(_Undone):
            await _opened_then_undone(uow, (identity_id, member_id, branch_id, now), gone)
        assert await uow.inbox.open_thread_and_last_direction(identity_id) == (None, None)
        # opened again (SQLite may give the rolled-back id again): the row as now stored
        thread = await uow.inbox.open_thread(identity_id, member_id, branch_id, now)
        assert (thread.status, thread.last_message_at, thread.member_id) == ("open", now, member_id)
        await uow.commit()
    async with app.uow() as uow:
        found, _ = await uow.inbox.open_thread_and_last_direction(identity_id)
        assert found is not None
        assert found.id == thread.id
        assert await uow.inbox.messages(found.id) == []
    assert gone


class _Undone(Exception):
    """What the savepoint's block raises to be undone."""


async def _opened_then_undone(uow: Any, thread: tuple[Any, ...], gone: list[int]) -> None:
    async with uow.savepoint():
        opened = await uow.inbox.open_thread(*thread)
        gone.append(opened.id)
        raise _Undone


async def test_the_threads_recent_alerts_are_counted_on_the_driver(app: App) -> None:
    now = app.clock.now()
    async with app.uow() as uow:
        for key in ("inbox:7:a1|s1", "inbox:7:a1|s2", "inbox:70:a2|s1"):
            await uow.outbox.enqueue(key, "telegram", "1", {"v": 1, "replies": []}, now)
        await uow.commit()
    async with app.uow() as uow:
        await _begun(session_of(uow))
        with first_words(app) as statements:
            counted = await uow.inbox.alerts_since("inbox:7:a", now)
    assert counted == 2
    assert statements == []


async def test_as_a_units_first_statement_the_inserts_write_the_same_rows(app: App) -> None:
    # on PostgreSQL before the transaction has begun they go through session.execute
    identity_id, member_id, branch_id = await _author(app)
    now = app.clock.now()
    async with app.uow() as uow:
        opened = await uow.inbox.open_thread(identity_id, member_id, branch_id, now)
        thread_id = opened.id
        await uow.commit()
    later = now + timedelta(minutes=1)
    async with app.uow() as uow:
        thread = InboxThread(id=thread_id, member_id=member_id, last_message_at=now)
        message = await uow.inbox.receive(thread, identity_id, THAI, later)
        await uow.commit()

    stored = await _row(app, InboxThread, thread_id)
    assert (stored["status"], stored["opened_at"], stored["last_message_at"]) == (
        "open",
        now,
        later,
    )
    row = await _row(app, InboxMessage, message.id)
    assert (row["direction"], row["status"], row["staff_id"], row["text"]) == (
        "in",
        "open",
        None,
        THAI,
    )
    assert row["received_at"] == later
