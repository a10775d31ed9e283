"""The bus's short path: one statement records the event id, one loads who is writing."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import event, text

from bot.bootstrap import App
from bot.core.messages import Channel, Identity, Inbound, InboundKind
from bot.i18n import t
from storage.models import ConversationState, InboxMessage, Member, ProcessedEvent
from storage.raw_session import session_of
from tests.unit.journey_support import count_rows


def _text(event_id: str, text: str = "hello", user: str = "U1") -> Inbound:
    return Inbound(
        identity=Identity(Channel.LINE, user),
        kind=InboundKind.TEXT,
        received_at=datetime(2026, 3, 3, tzinfo=UTC),
        event_id=event_id,
        text=text,
    )


@contextlib.contextmanager
def first_words(app: App) -> Iterator[list[str]]:
    """The first word of every statement the app's engine runs while the block runs."""
    statements: list[str] = []

    def _count(_c: Any, _cur: Any, statement: str, *_rest: Any) -> None:
        statements.append(statement.split()[0])

    event.listen(app.engine.sync_engine, "before_cursor_execute", _count)
    try:
        yield statements
    finally:
        event.remove(app.engine.sync_engine, "before_cursor_execute", _count)


async def test_one_event_delivered_five_times_at_once_is_stored_once(app: App) -> None:
    answers = await asyncio.gather(*(app.bus.handle(_text("line:dup")) for _ in range(5)))

    assert sum(1 for replies in answers if replies) <= 1
    assert t("th", "error.internal") not in [r.text for replies in answers for r in replies]
    assert await count_rows(app, InboxMessage) == 1
    assert await count_rows(app, ProcessedEvent) == 1


async def test_recording_an_event_id_twice_reports_the_second_as_seen(app: App) -> None:
    now = app.clock.now()
    async with app.uow() as uow:
        first = await uow.events.first_time("line:once", now)
        second = await uow.events.first_time("line:once", now)
        await uow.commit()

    assert (first, second) == (True, False)
    assert await count_rows(app, ProcessedEvent) == 1


async def test_arrival_loads_member_active_staff_and_conversation(app: App) -> None:
    now = app.clock.now()
    async with app.uow() as uow:
        member = await uow.members.add(
            Member(name="Ann", locale="en", joined_at=now, points_balance=0)
        )
        identity = await uow.identities.touch("line", "U7", now)
        identity.member_id = member.id
        await uow.staff.add("line", "U7", "Ann", "cashier", None, now)
        await uow.conversations.save("line", "U7", "f", "s", {"k": 1}, now, now + timedelta(1))
        await uow.commit()

    later = now + timedelta(minutes=5)
    async with app.uow() as uow:
        arrival = await uow.identities.arrive("line", "U7", later, "Ann P", "en")

        assert arrival.member is not None
        assert arrival.member.id == member.id
        assert arrival.staff is not None
        assert arrival.staff.role == "cashier"
        assert arrival.conversation is not None
        assert arrival.conversation.data == {"k": 1}
        assert arrival.identity.last_seen_at == later


async def test_arrival_ignores_a_removed_staff_account(app: App) -> None:
    now = app.clock.now()
    async with app.uow() as uow:
        staff = await uow.staff.add("line", "U8", "Bo", "cashier", None, now)
        staff.active = False
        await uow.commit()

    async with app.uow() as uow:
        arrival = await uow.identities.arrive("line", "U8", now)

        assert arrival.staff is None
        assert arrival.member is None


async def test_an_expired_conversation_is_not_continued(app: App) -> None:
    now = app.clock.now()
    async with app.uow() as uow:
        await uow.identities.touch("line", "U9", now)
        await uow.conversations.save(
            "line", "U9", "nowhere", "s", {}, now - timedelta(hours=2), now - timedelta(hours=1)
        )
        await uow.commit()

    await app.bus.handle(_text("line:late", "just text", user="U9"))

    async with app.uow() as uow:
        stored = await session_of(uow).get(ConversationState, ("line", "U9"))
    assert await count_rows(app, InboxMessage) == 1  # went to the inbox, not to the old flow
    assert stored is not None
    assert stored.flow == "nowhere"  # left as it was


async def test_a_connection_that_died_in_the_pool_is_replaced_and_the_event_handled(
    app: App,
) -> None:
    await app.bus.handle(_text("line:warm"))  # the pool now holds a connection
    killed: list[bool] = []

    def _kill_once(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        if not killed:  # as if the server had restarted while the connection sat in the pool
            killed.append(True)
            dbapi_connection.close()

    event.listen(app.engine.sync_engine, "checkout", _kill_once)
    try:
        replies = await app.bus.handle(_text("line:after-restart", "again"))
    finally:
        event.remove(app.engine.sync_engine, "checkout", _kill_once)

    assert killed
    assert t("th", "error.internal") not in [reply.text for reply in replies]
    assert await count_rows(app, InboxMessage) == 2
    assert await count_rows(app, ProcessedEvent) == 2


async def test_free_text_in_an_open_thread_reads_the_thread_and_its_last_message_at_once(
    app: App,
) -> None:
    await app.bus.handle(_text("line:t1", "hello", user="U5"))  # opens the thread
    with first_words(app) as statements:
        replies = await app.bus.handle(_text("line:t2", "still there?", user="U5"))

    assert replies == []  # joined the open thread, no second acknowledgement
    assert await count_rows(app, InboxMessage) == 2
    # reads: the arrival, then the thread with its last message's direction (the clock is
    # frozen, so the thread's last_message_at does not change and is not written); the event
    # id's INSERT goes with the arrival's read: to SQLite's driver in its trip, on PostgreSQL
    # as a CTE of the read (a statement starting WITH); on SQLite the read runs on the driver
    # (storage/direct.py), outside SQLAlchemy's execution, and so do the thread's read and the
    # message's INSERT on both databases (on PostgreSQL once the arrival began the transaction)
    arrival = ["WITH"] if app.engine.dialect.name == "postgresql" else []
    assert statements == arrival


async def test_a_redelivered_event_writes_nothing_of_its_arrival(app: App, clock: Any) -> None:
    await app.bus.handle(_text("line:again", user="U6"))
    async with app.uow() as uow:
        first_seen = (await uow.identities.arrive("line", "U6", app.clock.now())).identity
    clock.advance(timedelta(hours=1))  # an arrival now would write last_seen_at

    replies = await app.bus.handle(_text("line:again", "changed name?", user="U6"))

    async with app.uow() as uow:
        identity = await uow.identities.get("line", "U6")
    assert replies == []
    assert identity is not None
    assert identity.last_seen_at == first_seen.last_seen_at
    assert await count_rows(app, InboxMessage) == 1
    assert await count_rows(app, ProcessedEvent) == 1


async def test_on_sqlite_the_event_id_travels_with_the_arrival_read_as_stored_before(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    if app.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's one-trip driver")
    await app.bus.handle(_text("line:warm-up", user="U4"))  # the identity exists
    made: list[str] = []
    send = aiosqlite.Connection._execute

    async def counting(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        made.append(getattr(fn, "__name__", "?"))
        return await send(self, fn, *args, **kwargs)  # type: ignore[no-untyped-call]

    now = app.clock.now()
    monkeypatch.setattr(aiosqlite.Connection, "_execute", counting)
    async with app.uow() as uow:
        first_time = await uow.events.first_time_along("line:along", now)
        assert first_time is not None
        arrival = await uow.identities.arrive_if_new(first_time, "line", "U4", now)
        assert arrival is not None
        await uow.events.first_time("line:ordinary", now)
        await uow.commit()
    monkeypatch.undo()

    # BEGIN, the event id and the arrival's read in one trip; then the ordinary INSERT
    assert made == ["begin_then", "_run", "commit"]
    async with app.engine.connect() as connection:
        query = text("SELECT event_key, processed_at FROM processed_events")
        rows = await connection.execute(query)
        stored = {key: processed_at for key, processed_at in rows}
    assert stored["line:along"] == stored["line:ordinary"]  # the same text for the same time


async def test_an_event_id_sent_along_with_nothing_after_it_is_not_taken_as_new(
    app: App,
) -> None:
    if app.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's one-trip driver")
    async with app.uow() as uow:
        first_time = await uow.events.first_time_along("line:alone", app.clock.now())
        assert first_time is not None
        with pytest.raises(RuntimeError):
            first_time()


async def test_on_postgresql_a_first_contact_records_its_event_and_creates_the_account(
    app: App,
) -> None:
    if app.engine.dialect.name != "postgresql":
        pytest.skip("the CTE is PostgreSQL's")
    now = app.clock.now()
    async with app.uow() as uow:
        arrival = await uow.identities.arrive_recording("line:new", "line", "U40", now, "Ann")
        again = await uow.identities.arrive_recording("line:new", "line", "U40", now, "Ann")
        await uow.commit()

    assert arrival is not None
    assert (arrival.identity.user_id, arrival.identity.display_name) == ("U40", "Ann")
    assert again is None  # the same id, even within the transaction that recorded it
    assert await count_rows(app, ProcessedEvent) == 1


async def test_on_postgresql_a_known_account_arrives_in_one_statement(app: App) -> None:
    if app.engine.dialect.name != "postgresql":
        pytest.skip("the CTE is PostgreSQL's")
    now = app.clock.now()
    async with app.uow() as uow:
        await uow.identities.touch("line", "U41", now)
        await uow.commit()
    with first_words(app) as statements:
        async with app.uow() as uow:
            arrival = await uow.identities.arrive_recording("line:k1", "line", "U41", now)
            await uow.commit()

    assert arrival is not None
    assert arrival.identity.user_id == "U41"
    assert statements == ["WITH"]  # seen just now: no last_seen_at to write
    assert await count_rows(app, ProcessedEvent) == 1


async def test_on_postgresql_a_stale_last_seen_is_written_in_the_arrivals_statement(
    app: App, clock: Any
) -> None:
    if app.engine.dialect.name != "postgresql":
        pytest.skip("the CTE is PostgreSQL's")
    async with app.uow() as uow:
        await uow.identities.touch("line", "U42", app.clock.now())
        await uow.commit()
    clock.advance(timedelta(hours=1))
    now = app.clock.now()
    with first_words(app) as statements:
        async with app.uow() as uow:
            arrival = await uow.identities.arrive_recording("line:k2", "line", "U42", now, "Bo")
            assert arrival is not None
            assert arrival.identity.last_seen_at == now  # shown as stored
            await uow.commit()

    # the name is a change of its own (an UPDATE after); last_seen_at went with the read
    assert statements == ["WITH", "UPDATE"]
    async with app.uow() as uow:
        stored = await uow.identities.get("line", "U42")
    assert stored is not None
    assert (stored.last_seen_at, stored.display_name) == (now, "Bo")
