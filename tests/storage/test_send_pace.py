"""The shared send pace (issue 15, item 10): slots for several messages claimed in one
transaction keep the bot's spacing and each chat's, on both databases."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from asyncpg.connection import Connection  # type: ignore[import-untyped]
from asyncpg.prepared_stmt import PreparedStatement  # type: ignore[import-untyped]
from sqlalchemy import event, select

from bot.bootstrap import App
from bot.core.capabilities import RateBudget
from bot.core.messages import Channel
from jobs.shared_pace import SharedPace
from storage.models import SendPace
from storage.uow import UnitOfWork

BOT = "telegram"
GAP = 0.1  # the bot: ten a second
CHAT_GAP = 1.0  # a chat: one a second


async def claim(app: App, chats: list[str | None], now: float) -> list[tuple[bool, float]]:
    """Each message's (granted, moment), to the microsecond."""
    async with app.uow() as uow:
        slots = await uow.pace.claim_many(BOT, chats, now, GAP, CHAT_GAP)
        await uow.commit()
    return [(slot.granted, round(slot.at, 6)) for slot in slots]


async def test_one_claim_spaces_its_messages_and_holds_a_second_to_one_chat(app: App) -> None:
    slots = await claim(app, ["telegram:1", "telegram:2", None, "telegram:1"], 100.0)
    assert slots[:3] == [(True, 100.0), (True, 100.1), (True, 100.2)]
    # chat 1 already has a message at 100.0: the fourth waits for the chat, and takes no slot
    assert slots[3] == (False, 101.0)


async def test_the_next_claim_continues_after_the_slots_already_given(app: App) -> None:
    await claim(app, ["telegram:1", "telegram:2"], 100.0)
    later = await claim(app, ["telegram:3", "telegram:1"], 100.05)
    # the bot's next free moment is 100.2, whoever claims (another process, a little later)
    assert later[0] == (True, 100.2)
    assert later[1] == (False, 101.0)
    at_chat_time = await claim(app, ["telegram:1"], 101.0)
    assert at_chat_time == [(True, 101.0)]


async def test_a_platform_rest_holds_every_later_slot(app: App) -> None:
    await claim(app, [None], 100.0)
    async with app.uow() as uow:
        await uow.pace.hold(BOT, 105.0)
        await uow.commit()
    assert await claim(app, ["telegram:9", None], 100.5) == [(True, 105.0), (True, 105.1)]


async def test_rows_idle_long_enough_are_forgotten_and_a_forgotten_chat_is_free(
    app: App,
) -> None:
    await claim(app, ["telegram:1"], 100.0)
    async with app.uow() as uow:
        await uow.pace.forget_before(200.0)
        await uow.commit()
    assert await claim(app, ["telegram:1"], 100.5) == [(True, 100.5)]


async def test_a_claim_whose_rows_exist_writes_them_and_inserts_none(app: App) -> None:
    await claim(app, ["telegram:1", "telegram:2"], 100.0)
    statements: list[str] = []

    def _count(_c: Any, _cur: Any, statement: str, *_rest: Any) -> None:
        statements.append(statement.split()[0])

    event.listen(app.engine.sync_engine, "before_cursor_execute", _count)
    try:
        slots = await claim(app, ["telegram:2", "telegram:1", None], 102.0)
    finally:
        event.remove(app.engine.sync_engine, "before_cursor_execute", _count)
    assert slots == [(True, 102.0), (True, 102.1), (True, 102.2)]
    # the rows read and locked, then moved: the INSERT making them is for a claim that lacks one
    assert "INSERT" not in statements


async def test_a_claim_makes_the_rows_it_lacks_when_the_bot_row_exists(app: App) -> None:
    await claim(app, ["telegram:1"], 100.0)
    slots = await claim(app, ["telegram:1", "telegram:5", "telegram:6"], 100.0)
    assert slots == [(False, 101.0), (True, 100.1), (True, 100.2)]
    assert await claim(app, ["telegram:5"], 100.5) == [(False, 101.1)]


async def test_forgetting_idle_rows_keeps_the_bots_own(app: App) -> None:
    await claim(app, ["telegram:1"], 100.0)
    async with app.uow() as uow:
        await uow.pace.forget_before(200.0)
        await uow.commit()
    async with app.engine.connect() as connection:
        keys = (await connection.execute(select(SendPace.key))).scalars().all()
    assert keys == [BOT]


async def test_claims_of_any_number_of_keys_send_the_same_texts(app: App) -> None:
    """PostgreSQL: the keys go as one array, so asyncpg prepares each statement once, not
    once per number of keys (an IN list or a VALUES list has a text per length); SQLite binds
    them one by one."""
    if app.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL binds the keys as an array")
    texts: set[str] = set()

    def _keep(_c: Any, _cur: Any, statement: str, *_rest: Any) -> None:
        texts.add(statement)

    await claim(app, [None], 100.0)  # the bot's row: every claim below finds it
    event.listen(app.engine.sync_engine, "before_cursor_execute", _keep)
    try:
        await claim(app, ["telegram:1"], 100.0)
        await claim(app, ["telegram:2", "telegram:3", "telegram:4"], 100.0)
        await claim(app, ["telegram:5", "telegram:6", None, "telegram:1"], 200.0)
    finally:
        event.remove(app.engine.sync_engine, "before_cursor_execute", _keep)
    # the claim (its lock, the rows it lacks, its slots and move): one text whatever the number
    # of keys
    assert sorted(text.split()[0] for text in texts) == ["WITH"]


async def test_a_shared_claim_on_postgresql_is_one_statement_and_no_transaction(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server's claim (``jobs.shared_pace``) locks, takes and moves in one statement, so it
    needs no transaction: no ``BEGIN`` / ``COMMIT``, a trip each to asyncpg."""
    if app.engine.dialect.name != "postgresql":
        pytest.skip("SQLite's claim is several statements under BEGIN IMMEDIATE")
    moments = [100.0]

    async def no_wait(_seconds: float) -> None:
        return None

    budget = RateBudget(per_sender=10.0, per_message=True)
    pace = SharedPace({Channel.TELEGRAM: budget}, app.uow, now=lambda: moments[0], sleep=no_wait)
    await pace.before_send(Channel.TELEGRAM, "message", "42", 1)  # the bot's row made
    trips: list[str] = []

    async def execute(self: Any, query: str, *args: Any, **kwargs: Any) -> Any:
        trips.append(query.split()[0].rstrip(";").upper())
        return await ordinary_execute(self, query, *args, **kwargs)

    async def fetch(self: Any, *args: Any, **kwargs: Any) -> Any:
        trips.append("statement")
        return await ordinary_fetch(self, *args, **kwargs)

    async def fetch_text(self: Any, *args: Any, **kwargs: Any) -> Any:
        trips.append("statement")
        return await ordinary_fetch_text(self, *args, **kwargs)

    ordinary_execute, ordinary_fetch = Connection.execute, PreparedStatement.fetch
    ordinary_fetch_text = Connection.fetch
    monkeypatch.setattr(Connection, "execute", execute)
    monkeypatch.setattr(PreparedStatement, "fetch", fetch)
    monkeypatch.setattr(Connection, "fetch", fetch_text)  # a text asyncpg prepares itself
    moments[0] = 200.0
    await pace.before_send(Channel.TELEGRAM, "message", "42", 1)
    monkeypatch.undo()
    assert trips == ["statement"]
    async with app.engine.connect() as connection:
        stored = (await connection.execute(select(SendPace.next_at))).scalars().all()
    assert stored == [200.1]  # the slot at 200 taken, the bot's next one a gap after it


async def test_a_shared_claim_on_postgresql_opens_no_unit_of_work(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The claim is one statement by itself: on PostgreSQL it runs on a pooled connection, with
    no session and no unit of work (its repositories, its transaction's bookkeeping) around
    it; its slots and the rows it moves are the same."""
    if app.engine.dialect.name != "postgresql":
        pytest.skip("SQLite's claim is several statements under BEGIN IMMEDIATE")
    moments = [100.0]

    async def no_wait(_seconds: float) -> None:
        return None

    entered: list[UnitOfWork] = []
    ordinary_enter = UnitOfWork.__aenter__

    async def enter(self: UnitOfWork) -> UnitOfWork:
        entered.append(self)
        return await ordinary_enter(self)

    monkeypatch.setattr(UnitOfWork, "__aenter__", enter)
    budget = RateBudget(per_sender=10.0, per_chat=1.0, per_message=True)
    pace = SharedPace({Channel.TELEGRAM: budget}, app.uow, now=lambda: moments[0], sleep=no_wait)
    await pace.before_send(Channel.TELEGRAM, "message", "42", 1)  # the rows made, then taken
    moments[0] = 200.0
    await pace.before_send(Channel.TELEGRAM, "message", "43", 1)
    monkeypatch.undo()
    assert entered == []
    async with app.engine.connect() as connection:
        stored = (await connection.execute(select(SendPace.key, SendPace.next_at))).all()
    assert sorted(stored) == [("telegram", 200.1), ("telegram:42", 101.0), ("telegram:43", 201.0)]


async def test_claims_one_after_the_other_share_one_connection_on_postgresql(app: App) -> None:
    """While messages wait, the claims of one process follow each other: on PostgreSQL they
    check one connection out of the pool for all of them, not one each."""
    if app.engine.dialect.name != "postgresql":
        pytest.skip("SQLite's claim is several statements under BEGIN IMMEDIATE")

    async def no_wait(_seconds: float) -> None:
        return None

    budget = RateBudget(per_sender=10.0, per_chat=1.0, per_message=True)
    pace = SharedPace({Channel.TELEGRAM: budget}, app.uow, now=lambda: 100.0, sleep=no_wait)
    await pace.before_send(Channel.TELEGRAM, "message", "40", 1)  # the bot's row made
    checkouts: list[object] = []
    checked_out = asyncio.Event()

    def count(*args: object) -> None:
        checkouts.append(args)
        checked_out.set()

    event.listen(app.engine.sync_engine, "checkout", count)
    # the first claims one slot; the others ask while it runs (its connection checked out, its
    # statement on the way), and share the claim after it
    first = asyncio.create_task(pace.before_send(Channel.TELEGRAM, "message", "41", 1))
    await checked_out.wait()
    chats = ["42", "43", "44"]
    await asyncio.gather(
        first, *(pace.before_send(Channel.TELEGRAM, "message", c, 1) for c in chats)
    )
    assert len(checkouts) == 1  # before: one per claim
    async with app.engine.connect() as connection:
        stored = dict((await connection.execute(select(SendPace.key, SendPace.next_at))).all())
    assert stored["telegram"] == pytest.approx(100.0 + 5 * 0.1)  # every message a slot
