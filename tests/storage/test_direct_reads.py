"""The reads run on SQLite's driver (``storage/direct.py``) give what ``session.execute`` gives,
in the unit of work's transaction, after the session's pending changes."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, literal_column, select
from sqlalchemy.exc import IntegrityError, PendingRollbackError

from bot.bootstrap import App
from bot.core.clock import FrozenClock
from bot.core.messages import Reply
from bot.i18n import t
from handlers.context import Context
from handlers.router import Audience, Command, Router
from storage import direct
from storage.models import (
    Branch,
    ChannelIdentity,
    ConversationState,
    InboxThread,
    PointsEntry,
    Sale,
    ShopSetting,
    Staff,
)
from storage.raw_session import session_of
from storage.repositories.arrival import ARRIVAL
from storage.repositories.points import _BALANCE, _KEY_USED
from storage.repositories.sales import SPEND_AND_LEDGER
from storage.repositories.settings import VERSION_KEY
from tests.unit.journey_support import count_rows
from tests.unit.staff_support import ensure_branch, make_member
from tests.unit.test_bus_group_commit import _text as telegram_text
from tests.unit.test_bus_hot_path import _text, first_words

THAI = "พลอย ใจดี 🌸🎉"


def _same(raw: list[tuple[Any, ...]], usual: list[tuple[Any, ...]]) -> None:
    """Equal rows whose values are of the same Python types (and time zones)."""
    assert raw == usual
    for raw_row, usual_row in zip(raw, usual, strict=True):
        assert [type(value) for value in raw_row] == [type(value) for value in usual_row]
        for raw_value, usual_value in zip(raw_row, usual_row, strict=True):
            if isinstance(usual_value, datetime):
                assert raw_value.tzinfo == usual_value.tzinfo


async def _both(app: App, statement: Any, values: dict[str, Any]) -> tuple[list[Any], list[Any]]:
    async with app.uow() as uow:
        session = session_of(uow)
        if app.engine.dialect.name == "postgresql":
            # asyncpg's path once the transaction has begun; before, the caller's as usual
            assert await direct.rows(session, statement, values) is None
            await session.execute(select(literal_column("1")))
        raw = await direct.rows(session, statement, values)
        usual = [tuple(row) for row in (await session.execute(statement, values)).all()]
    assert raw is not None
    return raw, usual


async def _author(app: App) -> int:
    """A member with every kind of value the arrival reads: Thai text and emoji, a date, NULLs,
    booleans, a staff account, a conversation with JSON data, another chat account."""
    member = await make_member(app, name=THAI, user_id="U9", birthday=date(1990, 2, 28))
    now = app.clock.now()
    async with app.uow() as uow:
        session = session_of(uow)
        session.add(
            Staff(channel="telegram", user_id="U9", name=THAI, role="owner", created_at=now)
        )
        data = {"name": THAI, "n": 3, "ok": True, "none": None, "list": [1.5, "ข"]}
        session.add(
            ConversationState(
                channel="telegram",
                user_id="U9",
                flow="signup",
                step="phone",
                data=data,
                expires_at=now + timedelta(minutes=30),
                updated_at=now,
            )
        )
        session.add(ShopSetting(key=VERSION_KEY, value={"v": "7 🎉"}, updated_at=now))
        session.add(
            ChannelIdentity(
                channel="line",
                user_id="Uline",
                member_id=member.id,
                reachable=False,
                first_seen_at=now - timedelta(days=3),
                last_seen_at=now - timedelta(days=1),
            )
        )
        await uow.commit()
    return member.id


async def test_the_arrival_on_the_driver_is_what_the_session_reads(app: App) -> None:
    await _author(app)

    raw, usual = await _both(app, ARRIVAL, {"channel": "telegram", "user_id": "U9"})

    _same(raw, usual)
    row = raw[0]
    assert THAI in row
    assert date(1990, 2, 28) in row
    assert None in row
    assert {"name": THAI, "n": 3, "ok": True, "none": None, "list": [1.5, "ข"]} in row
    assert all(value.tzinfo == UTC for value in row if isinstance(value, datetime))


async def test_the_spend_and_ledger_on_the_driver_is_what_the_session_reads(app: App) -> None:
    member_id = await _author(app)
    branch = await ensure_branch(app, "B1")
    now = app.clock.now()
    async with app.uow() as uow:
        session = session_of(uow)
        for n, amount in enumerate((Decimal("120.50"), Decimal("0.01"), Decimal("99999.99"))):
            sale = Sale(
                member_id=member_id,
                branch_id=branch,
                amount=amount,
                receipt_no=f"R-{n}",
                occurred_at=now - timedelta(hours=n),
            )
            session.add(sale)
            await session.flush()
            entry = PointsEntry(
                member_id=member_id,
                delta=12 - 20 * n,
                reason="sale ข 🎉",
                sale_id=sale.id if n else None,
                earned_at=now - timedelta(hours=n),
                created_at=now,
            )
            session.add(entry)
        await uow.commit()

    values = {"member_id": member_id, "since": now - timedelta(days=1)}
    raw, usual = await _both(app, SPEND_AND_LEDGER, values)

    _same(raw, usual)
    assert raw[0][0] == Decimal("100120.50")
    assert len(raw) == 3  # the three sales' entries


async def test_a_member_without_a_ledger_reads_its_spend_as_one_row_of_nulls(app: App) -> None:
    member = await make_member(app, user_id="U9")

    values = {"member_id": member.id, "since": app.clock.now()}
    raw, usual = await _both(app, SPEND_AND_LEDGER, values)

    _same(raw, usual)
    # the spend, the tier held (never reviewed: None), then the entry's five columns
    assert raw == [(Decimal("0.00"), None, None, None, None, None, None)]


async def test_the_ledgers_reads_on_the_driver_are_what_the_session_reads(app: App) -> None:
    member = await make_member(app, user_id="U9", points=70)

    for statement, values in (
        (_BALANCE, {"member_id": member.id}),
        (_BALANCE, {"member_id": 12345}),
        (_KEY_USED, {"key": "none"}),
    ):
        raw, usual = await _both(app, statement, values)
        _same(raw, usual)
    assert (await _both(app, _BALANCE, {"member_id": member.id}))[0] == [(70,)]


async def test_a_read_on_the_driver_sees_what_the_session_holds_unflushed(app: App) -> None:
    member_id = await _author(app)
    async with app.uow() as uow:
        session = session_of(uow)
        held = await uow.members.get(member_id)
        assert held is not None
        held.name = "ใหม่ 🎊"  # dirty
        session.add(  # new
            ChannelIdentity(
                channel="telegram",
                user_id="U10",
                member_id=member_id,
                reachable=True,
                first_seen_at=app.clock.now(),
                last_seen_at=app.clock.now() + timedelta(hours=1),
            )
        )
        arrival = await uow.identities.arrive("telegram", "U9", app.clock.now())

    assert arrival.member is not None
    assert arrival.member.name == "ใหม่ 🎊"
    assert arrival.others_seen_at == app.clock.now() + timedelta(hours=1)


async def test_a_read_on_the_driver_carries_the_transactions_begin_and_what_waits(
    app: App,
) -> None:
    # the event id's INSERT waits for the next statement (storage/along.py); the read is that
    # statement: the INSERT must run, inside the unit of work's transaction, and be undone
    # with it when the unit of work ends without a commit
    await _author(app)
    now = app.clock.now()
    async with app.uow() as uow:
        recorded = await uow.events.first_time_along("tg:begin", now)
        arrival = await uow.identities._arrival("telegram", "U9")
        assert arrival is not None
        if recorded is not None:
            assert recorded()  # the INSERT ran, with the read
        assert await uow.events.seen("tg:begin") == (recorded is not None)

    async with app.uow() as uow:
        assert not await uow.events.seen("tg:begin")  # rolled back with the transaction


async def _credit_then_fail_a_read(ctx: Context) -> list[Reply]:
    assert ctx.member is not None
    await ctx.uow.points.append(ctx.member.id, 5, f"credit {ctx.inbound.event_id}", ctx.now)
    failing = select(literal_column("no_such_column"))
    if await direct.rows(session_of(ctx.uow), failing, {}) is None:  # not SQLite: as usual
        await session_of(ctx.uow).execute(failing)
    return [Reply(text="not reached")]


async def _credit(ctx: Context) -> list[Reply]:
    assert ctx.member is not None
    await ctx.uow.points.append(ctx.member.id, 5, f"credit {ctx.inbound.event_id}", ctx.now)
    return [Reply(text="credited")]


async def test_a_failed_read_on_the_driver_in_a_batch_undoes_its_own_event_alone(
    app: App,
) -> None:
    for user in ("700", "701"):
        await make_member(app, phone=f"081-234-5{user}", user_id=user)
    router = Router()
    router.command(Command("fail", _credit_then_fail_a_read, Audience.ANYONE))
    router.command(Command("credit", _credit, Audience.ANYONE))
    app.bus.router = router

    failed, credited = await asyncio.gather(
        app.bus.handle(telegram_text("tg:f1", "/fail", "700")),
        app.bus.handle(telegram_text("tg:f2", "/credit", "701")),
    )

    assert [reply.text for reply in failed] == [t("th", "error.internal")]
    assert [reply.text for reply in credited] == ["credited"]
    async with app.uow() as uow:
        rows = await session_of(uow).execute(
            select(PointsEntry.reason).where(PointsEntry.reason.like("credit %"))
        )
        assert sorted(rows.scalars().all()) == ["credit tg:f2"]
    assert await count_rows(app, ChannelIdentity) == 2


async def test_a_message_to_an_open_thread_sends_the_threads_new_time_with_the_commit(
    app: App, clock: FrozenClock
) -> None:
    await app.bus.handle(_text("line:m1", "hello", user="U5"))  # opens the thread
    clock.advance(timedelta(minutes=1))
    with first_words(app) as statements:
        await app.bus.handle(_text("line:m2", "still there?", user="U5"))

    # the arrival's read (on SQLite on the driver), the thread's, the message's INSERT and the
    # thread's UPDATE on the driver (storage/direct.py), outside SQLAlchemy's execution: on
    # SQLite the UPDATE with the commit, on PostgreSQL on asyncpg in the unit of work's
    # transaction, which the arrival began
    assert statements == ([] if app.engine.dialect.name == "sqlite" else ["WITH"])
    async with app.uow() as uow:
        moved = await session_of(uow).scalar(select(func.max(InboxThread.last_message_at)))
    assert moved == clock.now()


async def test_a_conversation_state_saved_or_cleared_goes_with_the_next_statement(app: App) -> None:
    now = app.clock.now()
    later = now + timedelta(minutes=5)
    async with app.uow() as uow:
        with first_words(app) as statements:
            await uow.conversations.save(
                "telegram", "U1", "signup", "phone", {"a": THAI}, now, later
            )
            await uow.conversations.save("telegram", "U2", "signup", "name", {}, now, later)
            await uow.conversations.clear("telegram", "U2")
        sent = list(statements)
        state = await uow.conversations.get("telegram", "U1", now)  # its read carries them
        assert state is not None
        assert (state.step, state.data) == ("phone", {"a": THAI})
        assert await uow.conversations.get("telegram", "U2", now) is None
        await uow.commit()

    # on SQLite the upserts and the DELETE run on the driver, with the next statement; on
    # PostgreSQL the first begins the transaction through SQLAlchemy, the others run on asyncpg
    assert sent == ([] if app.engine.dialect.name == "sqlite" else ["INSERT"])
    async with app.uow() as uow:
        kept = await uow.conversations.get("telegram", "U1", now)
        assert kept is not None
        assert kept.data == {"a": THAI}
        assert await uow.conversations.get("telegram", "U2", now) is None


async def test_a_read_on_the_driver_after_a_failed_flush_is_refused_as_the_sessions(
    app: App,
) -> None:
    await ensure_branch(app, "b1")
    used = {"key": "k"}
    async with app.uow() as uow:
        session = session_of(uow)
        await direct.rows(session, _KEY_USED, used)  # its driver kept for the transaction
        savepoint = await session.begin_nested()
        session.add(Branch(code="b1", name_th="x", name_en="x"))
        with pytest.raises(IntegrityError):
            await session.flush()
        session.expunge_all()  # nothing pending: no flush to refuse before the read
        with pytest.raises(PendingRollbackError):
            await session.execute(_KEY_USED, used)
        with pytest.raises(PendingRollbackError):
            await direct.rows(session, _KEY_USED, used)
        await savepoint.rollback()
        assert await direct.rows(session, _KEY_USED, used) in ([], None)
