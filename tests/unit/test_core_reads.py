"""The hot path's reads as Core statements: what they return and what the ORM layer still runs.

A statement built from tables skips the ORM's execution layer (compile state, result set-up);
the session still flushes what it holds before running it, as before an ORM query.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

from bot.bootstrap import App
from storage.models import PointsEntry, Sale
from storage.raw_session import session_of
from storage.repositories.members import _SPEND_SINCE
from storage.repositories.points import _BALANCE, _DEBIT, _KEY_USED, _MOVE
from storage.repositories.sales import SPEND_AND_LEDGER
from tests.chat import Chat
from tests.unit.journey_support import add_branches, consents, join, only_member, points
from tests.unit.sales_support import balance
from tests.unit.staff_support import audit_rows, ensure_branches, make_member, staff_chat
from tests.unit.test_bus_hot_path import first_words


@contextlib.contextmanager
def orm_statements(*, whole: bool = False) -> Iterator[list[str]]:
    """The first word (or, ``whole``, the text) of every statement a session runs through the
    ORM's layer."""
    seen: list[str] = []

    def _count(state: ORMExecuteState) -> None:
        if state.is_orm_statement:
            words = str(state.statement).split()
            seen.append(" ".join(words) if whole else words[0])

    event.listen(Session, "do_orm_execute", _count)
    try:
        yield seen
    finally:
        event.remove(Session, "do_orm_execute", _count)


def test_the_tier_and_balance_reads_and_the_balance_move_are_core_statements() -> None:
    for statement in (SPEND_AND_LEDGER, _BALANCE, _KEY_USED, _MOVE, _DEBIT, _SPEND_SINCE):
        assert statement._propagate_attrs.get("compile_state_plugin") != "orm"


async def test_points_runs_nothing_through_the_orm(app: App) -> None:
    chat = Chat(app)
    await join(chat)
    with orm_statements() as orm, first_words(app) as statements:
        replies = await chat.say("/points")

    assert replies
    # the arrival (storage/repositories/arrival.py) and the spend and ledger read are Core; on
    # SQLite both run on the driver (storage/direct.py), outside SQLAlchemy's execution; on
    # PostgreSQL the arrival begins the transaction and the read runs on asyncpg
    assert orm == []
    if app.engine.dialect.name == "postgresql":
        assert statements == ["WITH"]
    else:
        assert statements == []


async def test_the_spend_and_ledger_read_sees_what_the_session_holds_unflushed(app: App) -> None:
    branch = (await add_branches(app)).popitem()[1]
    await join(Chat(app))
    member = await only_member(app)
    now = app.clock.now()
    async with app.uow() as uow:
        session = session_of(uow)
        amount = Decimal("120.00")
        session.add(
            Sale(
                member_id=member.id,
                branch_id=branch,
                amount=amount,
                receipt_no="R-1",
                occurred_at=now,
            )
        )
        session.add(
            PointsEntry(member_id=member.id, delta=7, reason="sale", earned_at=now, created_at=now)
        )
        spend, rows = await uow.sales.spend_and_ledger(member.id, now - timedelta(days=1))

    assert spend == Decimal("120.00")
    assert 7 in [row.delta for row in rows]


async def test_the_balance_read_sees_a_balance_the_session_holds_unflushed(app: App) -> None:
    await join(Chat(app))
    member = await only_member(app)
    async with app.uow() as uow:
        held = await uow.members.get(member.id)
        assert held is not None
        held.points_balance = 4321
        balance = await uow.points.balance(member.id)

    assert balance == 4321


async def test_a_sale_reads_the_balance_before_and_after_its_credit(app: App) -> None:
    await join(Chat(app))
    member = await only_member(app)
    async with app.uow() as uow:
        before = await uow.points.balance(member.id)
        await uow.points.append(member.id, 25, "sale", app.clock.now())
        after = await uow.points.balance(member.id)

    assert after - before == 25


async def test_a_points_move_reads_the_new_balance_back_from_its_update(app: App) -> None:
    await join(Chat(app))
    member = await only_member(app)
    async with app.uow() as uow:
        held = await uow.members.get(member.id)
        assert held is not None
        before = held.points_balance
        with first_words(app) as statements:
            await uow.points.append(member.id, 25, "sale", app.clock.now(), idempotency_key="k1")
            await uow.points.append(member.id, -5, "redeem", app.clock.now())
        shown = held.points_balance
        stored = await uow.points.balance(member.id)

    assert shown == stored == before + 20
    # UPDATE … RETURNING, no refresh SELECT of the loaded member; the idempotency key's read is
    # on the driver (storage/direct.py: the transaction has begun with the member's read)
    assert statements == ["UPDATE", "INSERT", "UPDATE", "INSERT"]


async def test_a_sale_runs_its_balance_spend_and_first_sale_reads_without_the_orm(app: App) -> None:
    await ensure_branches(app, ("asoke",))
    cashier = await staff_chat(app, "c1", "cashier", "asoke", name="Nok")
    ploy = await make_member(app, "Ploy", "081-234-5678", user_id="m1")
    with orm_statements(whole=True) as orm:
        await cashier.say("/sale 081-234-5678 260 receipt=R1")

    assert await balance(app, ploy.id) == 10  # credited as before
    # the ORM runs the entities' reads (the member, the receipt...); the ledger's own reads
    # and its UPDATE are Core (the UPDATE returns the balance a loaded member shows)
    assert not [s for s in orm if s.startswith("UPDATE")]
    assert not [s for s in orm if "FROM points_ledger" in s or "sales.member_id =" in s]
    assert not [
        s
        for s in orm
        if s.startswith("SELECT members.points_balance FROM members") and "pk_" not in s
    ]


async def test_a_sign_up_writes_consents_welcome_points_and_audit_without_a_flush(app: App) -> None:
    flushed: list[str] = []

    def _flushing(session: Session, *_: object) -> None:
        flushed.extend(type(row).__name__ for row in session.new)

    event.listen(Session, "before_flush", _flushing)
    try:
        await join(Chat(app))
    finally:
        event.remove(Session, "before_flush", _flushing)

    member = await only_member(app)
    assert "Consent" not in flushed
    assert "AuditEntry" not in flushed
    assert "PointsEntry" not in flushed
    assert await points(app, member.id) == [(50, "welcome")]
    assert [(purpose, granted) for purpose, granted, _ in await consents(app, member.id)] == [
        ("membership", True),
        ("marketing", True),
    ]
    assert [row.member_id for row in await audit_rows(app)] == [member.id]
