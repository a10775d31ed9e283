"""Group commit: events handled together share a transaction, and each is still on its own.

``asyncio.gather`` puts every event in the bus's queue before its runner starts, so these
events are handled as one batch (``handlers/group_commit.py``).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event, select

from bot.bootstrap import App
from bot.core.errors import InvalidInput
from bot.core.messages import Channel, Identity, Inbound, InboundKind, Reply
from bot.i18n import t
from handlers import group_commit
from handlers.context import Context
from handlers.group_commit import BATCH_LIMIT
from handlers.router import Audience, Command, Router
from storage.models import ChannelIdentity, PointsEntry, ProcessedEvent
from storage.raw_session import session_of
from tests.unit.journey_support import count_rows
from tests.unit.staff_support import make_member


async def _credit(ctx: Context) -> list[Reply]:
    assert ctx.member is not None
    await ctx.uow.points.append(ctx.member.id, 5, f"credit {ctx.inbound.event_id}", ctx.now)
    return [Reply(text="credited")]


async def _credit_then_crash(ctx: Context) -> list[Reply]:
    await _credit(ctx)
    raise RuntimeError("the handler has a bug")


async def _credit_then_refuse(ctx: Context) -> list[Reply]:
    await _credit(ctx)
    raise InvalidInput()


def _router() -> Router:
    router = Router()
    router.command(Command("credit", _credit, Audience.ANYONE))
    router.command(Command("crash", _credit_then_crash, Audience.ANYONE))
    router.command(Command("refuse", _credit_then_refuse, Audience.ANYONE))
    return router


def _text(event_id: str, text: str, user: str = "700") -> Inbound:
    return Inbound(
        identity=Identity(Channel.TELEGRAM, user),
        kind=InboundKind.TEXT,
        received_at=datetime(2026, 3, 3, tzinfo=UTC),
        event_id=event_id,
        text=text,
    )


async def _member(app: App, user: str) -> None:
    await make_member(app, phone=f"081-234-5{user}", user_id=user)


async def _reasons(app: App) -> list[str]:
    async with app.uow() as uow:
        rows = await session_of(uow).execute(
            select(PointsEntry.reason).where(PointsEntry.reason.like("credit %"))
        )
        return sorted(rows.scalars().all())


def _count_commits(app: App) -> list[int]:
    commits: list[int] = []
    event.listen(app.engine.sync_engine, "commit", lambda _connection: commits.append(1))
    return commits


async def test_a_crash_in_one_event_of_a_batch_undoes_that_event_alone(app: App) -> None:
    await _member(app, "700")
    await _member(app, "701")
    app.bus.router = _router()
    commits = _count_commits(app)

    crashed, credited = await asyncio.gather(
        app.bus.handle(_text("tg:b1", "/crash")),
        app.bus.handle(_text("tg:b2", "/credit", user="701")),
    )

    assert len(commits) == 1  # one transaction for both
    assert [reply.text for reply in crashed] == [t("th", "error.internal")]
    assert [reply.text for reply in credited] == ["credited"]
    assert await _reasons(app) == ["credit tg:b2"]
    assert await count_rows(app, ProcessedEvent) == 2  # the crashed one is not run again
    assert await app.bus.handle(_text("tg:b1", "/credit")) == []


async def test_a_refusal_in_a_batch_keeps_its_arrival_and_the_others_effects(app: App) -> None:
    await _member(app, "700")
    await _member(app, "701")
    app.bus.router = _router()

    refused, credited = await asyncio.gather(
        app.bus.handle(_text("tg:b3", "/refuse")),
        app.bus.handle(_text("tg:b4", "/credit", user="701")),
    )

    assert [reply.text for reply in refused] == [t("th", "error.invalid_input")]
    assert [reply.text for reply in credited] == ["credited"]
    assert await _reasons(app) == ["credit tg:b4"]
    assert await count_rows(app, ProcessedEvent) == 2


async def test_the_same_event_twice_in_one_batch_has_one_effect(app: App) -> None:
    await _member(app, "700")
    app.bus.router = _router()
    commits = _count_commits(app)

    answers = await asyncio.gather(*(app.bus.handle(_text("tg:b5", "/credit")) for _ in range(3)))

    assert len(commits) == 1
    assert sorted(len(replies) for replies in answers) == [0, 0, 1]
    assert await _reasons(app) == ["credit tg:b5"]
    assert await count_rows(app, ProcessedEvent) == 1


async def test_a_batch_whose_commit_fails_is_run_again_one_event_at_a_time(app: App) -> None:
    for user in ("700", "701", "702"):
        await _member(app, user)
    app.bus.router = _router()
    failed: list[bool] = []

    def _fail_first_commit(_connection: Any) -> None:
        if not failed:
            failed.append(True)
            raise RuntimeError("the disk is full")

    event.listen(app.engine.sync_engine, "commit", _fail_first_commit)
    answers = await asyncio.gather(
        *(app.bus.handle(_text(f"tg:c{n}", "/credit", user=f"70{n}")) for n in "012")
    )

    assert failed == [True]
    assert all([reply.text for reply in replies] == ["credited"] for replies in answers)
    assert await _reasons(app) == ["credit tg:c0", "credit tg:c1", "credit tg:c2"]
    assert await count_rows(app, ProcessedEvent) == 3


async def test_a_batch_the_database_cannot_record_answers_every_event_with_an_error(
    app: App,
) -> None:
    for user in ("700", "701"):
        await _member(app, user)
    app.bus.router = _router()

    def _always_fail(_connection: Any) -> None:
        raise RuntimeError("the database is gone")

    event.listen(app.engine.sync_engine, "commit", _always_fail)
    try:
        answers = await asyncio.gather(
            app.bus.handle(_text("tg:d0", "/credit", user="700")),
            app.bus.handle(_text("tg:d1", "/credit", user="701")),
            return_exceptions=True,
        )
    finally:
        event.remove(app.engine.sync_engine, "commit", _always_fail)

    assert all(isinstance(answer, RuntimeError) for answer in answers)  # the adapter's 5xx
    assert await _reasons(app) == []
    assert await count_rows(app, ProcessedEvent) == 0  # delivered again later, handled then


@pytest.mark.parametrize("users", [BATCH_LIMIT * 2 + 3])
async def test_many_events_at_once_are_each_committed_once(app: App, users: int) -> None:
    app.bus.router = _router()
    commits = _count_commits(app)
    events = [_text(f"tg:m{n}", "/help", user=str(8000 + n)) for n in range(users)]

    answers = await asyncio.gather(*(app.bus.handle(inbound) for inbound in events))
    again = await asyncio.gather(*(app.bus.handle(inbound) for inbound in events))

    assert all(replies for replies in answers)
    assert all(replies == [] for replies in again)
    assert len(commits) < users  # shared transactions
    assert await count_rows(app, ProcessedEvent) == users
    assert await count_rows(app, ChannelIdentity) == users


async def test_batches_crediting_the_same_members_in_parallel_lose_nothing(app: App) -> None:
    """On PostgreSQL batches run side by side and lock members in different orders: a batch
    that loses a deadlock is run again event by event, and every credit lands once."""
    users = [f"70{n}" for n in range(4)]
    for user in users:
        await _member(app, user)
    app.bus.router = _router()
    # the second batch meets the members in the opposite order: a deadlock on PostgreSQL
    order = [users[n % 4] if n < BATCH_LIMIT else users[3 - n % 4] for n in range(60)]
    events = [_text(f"tg:p{n}", "/credit", user=user) for n, user in enumerate(order)]

    answers = await asyncio.gather(*(app.bus.handle(inbound) for inbound in events))

    assert all([reply.text for reply in replies] == ["credited"] for replies in answers)
    async with app.uow() as uow:
        for user in users:
            identity = await uow.identities.get("telegram", user)
            assert identity is not None
            assert identity.member_id is not None
            member = await uow.members.get(identity.member_id)
            assert member is not None
            assert member.points_balance == 5 * 15
    assert len(await _reasons(app)) == 60


async def test_failures_between_successes_in_one_batch_undo_their_own_events_alone(
    app: App,
) -> None:
    for user in ("700", "701", "702", "703", "704"):
        await _member(app, user)
    app.bus.router = _router()
    statements: list[str] = []

    def _count(_c: Any, _cur: Any, statement: str, *_rest: Any) -> None:
        statements.append(statement.split()[0])

    event.listen(app.engine.sync_engine, "before_cursor_execute", _count)
    try:
        await asyncio.gather(
            app.bus.handle(_text("tg:s1", "/credit", user="700")),
            app.bus.handle(_text("tg:s2", "/crash", user="701")),
            app.bus.handle(_text("tg:s3", "/credit", user="702")),
            app.bus.handle(_text("tg:s4", "/refuse", user="703")),
            app.bus.handle(_text("tg:s5", "/credit", user="704")),
        )
    finally:
        event.remove(app.engine.sync_engine, "before_cursor_execute", _count)

    assert await _reasons(app) == ["credit tg:s1", "credit tg:s3", "credit tg:s5"]
    assert await count_rows(app, ProcessedEvent) == 5
    if app.engine.dialect.name == "postgresql":
        # one savepoint per event, left open: they commit with the batch (storage/db.py)
        assert statements.count("SAVEPOINT") == 5
        assert "RELEASE" not in statements


async def test_a_batch_in_which_every_event_succeeds_takes_no_savepoint(app: App) -> None:
    """The savepoints are for the batch that has a failure in it (run again, guarded): the
    common batch commits without one per event (on PostgreSQL each is a trip)."""
    for user in ("700", "701", "702"):
        await _member(app, user)
    app.bus.router = _router()
    commits = _count_commits(app)
    savepoints: list[str] = []

    def _count(_connection: Any, name: str) -> None:
        savepoints.append(name)

    # the connection's event: on SQLite the SAVEPOINT text travels with the next statement
    event.listen(app.engine.sync_engine, "savepoint", _count)
    try:
        answers = await asyncio.gather(
            *(app.bus.handle(_text(f"tg:n{n}", "/credit", user=f"70{n}")) for n in "012")
        )
    finally:
        event.remove(app.engine.sync_engine, "savepoint", _count)

    assert all([reply.text for reply in replies] == ["credited"] for replies in answers)
    assert len(commits) == 1
    assert savepoints == []
    assert await _reasons(app) == ["credit tg:n0", "credit tg:n1", "credit tg:n2"]


async def test_a_refusal_after_successes_keeps_each_success_once(app: App) -> None:
    """The unguarded try had credited the first two when the third was refused: nothing of
    that try is kept, the guarded run credits them once."""
    for user in ("700", "701", "702", "703"):
        await _member(app, user)
    app.bus.router = _router()
    commits = _count_commits(app)

    answers = await asyncio.gather(
        app.bus.handle(_text("tg:r0", "/credit", user="700")),
        app.bus.handle(_text("tg:r1", "/credit", user="701")),
        app.bus.handle(_text("tg:r2", "/refuse", user="702")),
        app.bus.handle(_text("tg:r3", "/credit", user="703")),
    )

    assert [[reply.text for reply in replies] for replies in answers] == [
        ["credited"],
        ["credited"],
        [t("th", "error.invalid_input")],
        ["credited"],
    ]
    assert len(commits) == 1
    assert await _reasons(app) == ["credit tg:r0", "credit tg:r1", "credit tg:r3"]
    assert await count_rows(app, ProcessedEvent) == 4
    async with app.uow() as uow:
        identity = await uow.identities.get("telegram", "700")
        assert identity is not None
        assert identity.member_id is not None
        member = await uow.members.get(identity.member_id)
        assert member is not None
        assert member.points_balance == 5


async def test_after_a_failed_try_the_next_batches_take_their_savepoints_at_once(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Refusals seldom come alone (a rush of typed answers): after a try without savepoints
    failed, the next batch runs guarded straight away instead of being run twice; the one
    after that tries without them again."""
    monkeypatch.setattr(group_commit, "GUARDED_AFTER_FAILURE", 1)
    for user in ("700", "701", "702"):
        await _member(app, user)
    app.bus.router = _router()
    calls: list[str] = []
    route = app.bus.router.route

    async def counted(ctx: Any) -> Any:
        calls.append(ctx.inbound.event_id)
        return await route(ctx)

    monkeypatch.setattr(app.bus.router, "route", counted)
    savepoints: list[str] = []

    def _count(_connection: Any, name: str) -> None:
        savepoints.append(name)

    async def batch(prefix: str, refused: bool) -> None:
        texts = ["/credit", "/refuse" if refused else "/credit", "/credit"]
        await asyncio.gather(
            *(
                app.bus.handle(_text(f"{prefix}{n}", text, user=f"70{n}"))
                for n, text in enumerate(texts)
            )
        )

    event.listen(app.engine.sync_engine, "savepoint", _count)
    try:
        await batch("tg:a", refused=True)  # tried, failed, run guarded: each event twice
        assert (len(calls), len(savepoints)) == (5, 3)
        await batch("tg:b", refused=False)  # guarded at once: each event once, 3 savepoints
        assert (len(calls), len(savepoints)) == (8, 6)
        await batch("tg:c", refused=False)  # without savepoints again
        assert (len(calls), len(savepoints)) == (11, 6)
    finally:
        event.remove(app.engine.sync_engine, "savepoint", _count)
    assert await _reasons(app) == [
        f"credit tg:{p}{n}" for p in "abc" for n in "012" if p + n != "a1"
    ]
