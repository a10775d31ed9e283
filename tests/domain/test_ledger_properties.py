"""A Hypothesis state machine over random earn / redeem / void / adjust / expire sequences with
the clock moving: after every step the cached balance equals the ledger sum and is never
negative, and no ledger row written earlier has changed or disappeared.

Each test case runs on its own event loop with its own engine (the state machine is
synchronous), against the run's test database: SQLite by default, PostgreSQL with ``-m db``
and ``CHATCRM_TEST_DATABASE_URL``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, ClassVar, TypeVar

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select

from bot.core.clock import FrozenClock
from bot.core.errors import Conflict, InvalidInput
from shop.ledger import adjust_points, expire_points, record_sale, void_sale
from shop.loyalty import LoyaltyRules
from storage.db import session_factory
from storage.models import Branch, Member, PointsEntry, Staff
from storage.raw_session import session_of
from storage.repositories.points import InsufficientPoints
from storage.uow import UnitOfWork, UnitOfWorkFactory
from tests.conftest import _truncate, make_test_engine

pytestmark = pytest.mark.db

T = TypeVar("T")
RULES = LoyaltyRules()
Row = tuple[Any, ...]


class LedgerMachine(RuleBasedStateMachine):
    url: ClassVar[str] = ""
    owner: Staff
    member_id: int

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.clock = FrozenClock(datetime(2026, 1, 5, 7, 0, tzinfo=UTC))
        self.engine = make_test_engine(self.url)
        self.uow = UnitOfWorkFactory(session_factory(self.engine))
        self.receipts: list[tuple[str, Decimal]] = []
        self.voided: set[str] = set()
        self.snapshot: dict[int, Row] = {}
        self.run(self._set_up())

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coroutine)

    def teardown(self) -> None:
        self.run(self.engine.dispose())
        self.loop.close()

    async def _set_up(self) -> None:
        await _truncate(self.engine)
        now = self.clock.now()
        async with self.uow() as uow:
            session_of(uow).add(Branch(code="asoke", name_th="อโศก", name_en="Asoke", active=True))
            self.owner = await uow.staff.add("telegram", "o1", "Owner", "owner", None, now)
            member = await uow.members.add(Member(name="Ploy", locale="th", joined_at=now))
            self.member_id = member.id
            await uow.commit()

    async def _member(self, uow: UnitOfWork) -> Member:
        member = await uow.members.get(self.member_id)
        assert member is not None
        return member

    async def _balance(self) -> int:
        async with self.uow() as uow:
            return await uow.points.balance(self.member_id)

    @initialize(satang=st.integers(min_value=2_500, max_value=300_000))
    def first_sale(self, satang: int) -> None:
        """Every run starts with points to spend and a sale to void."""
        self.earn(satang)

    @rule(satang=st.integers(min_value=100, max_value=300_000))
    def earn(self, satang: int) -> None:
        baht = Decimal(satang) / 100
        receipt = f"R{len(self.receipts)}"
        self.receipts.append((receipt, baht))

        async def go() -> None:
            async with self.uow() as uow:
                branch = await uow.branches.by_code("asoke")
                assert branch is not None
                result = await record_sale(
                    uow,
                    member=await self._member(uow),
                    amount=baht,
                    branch=branch,
                    receipt_no=receipt,
                    staff=self.owner,
                    now=self.clock.now(),
                    rules=RULES,
                )
                await uow.commit()
            assert not result.duplicate

        self.run(go())

    @rule(data=st.data())
    def earn_again(self, data: st.DataObject) -> None:
        """A receipt sent twice changes nothing."""
        if not self.receipts:
            return
        receipt, baht = data.draw(st.sampled_from(self.receipts))

        async def go() -> None:
            async with self.uow() as uow:
                branch = await uow.branches.by_code("asoke")
                assert branch is not None
                try:
                    result = await record_sale(
                        uow,
                        member=await self._member(uow),
                        amount=baht,
                        branch=branch,
                        receipt_no=receipt,
                        staff=self.owner,
                        now=self.clock.now(),
                        rules=RULES,
                    )
                except Conflict:
                    assert receipt in self.voided
                    return
                await uow.commit()
            assert result.duplicate

        self.run(go())

    @rule(data=st.data())
    def redeem(self, data: st.DataObject) -> None:
        """Spend points as the reward catalog does; mostly affordable, sometimes not."""
        before = self.run(self._balance())
        points = data.draw(st.integers(min_value=1, max_value=before + 20), label="points")

        async def go() -> None:
            async with self.uow() as uow:
                try:
                    await uow.points.append(self.member_id, -points, "redeem", self.clock.now())
                except InsufficientPoints:
                    assert points > before
                    return
                await uow.commit()
            assert points <= before

        self.run(go())

    @rule(data=st.data())
    def void(self, data: st.DataObject) -> None:
        if not self.receipts:
            return
        receipt, _ = data.draw(st.sampled_from(self.receipts))

        async def go() -> None:
            async with self.uow() as uow:
                try:
                    await void_sale(uow, receipt_no=receipt, staff=self.owner, now=self.clock.now())
                except Conflict:
                    assert receipt in self.voided
                    return
                await uow.commit()
            assert receipt not in self.voided
            self.voided.add(receipt)

        self.run(go())

    @rule(delta=st.integers(min_value=-400, max_value=400).filter(bool))
    def adjust(self, delta: int) -> None:
        async def go() -> None:
            before = await self._balance()
            async with self.uow() as uow:
                try:
                    await adjust_points(
                        uow,
                        member=await self._member(uow),
                        delta=delta,
                        reason="property test",
                        staff=self.owner,
                        now=self.clock.now(),
                    )
                except InvalidInput:
                    assert before + delta < 0
                    return
                await uow.commit()

        self.run(go())

    @rule()
    def expire(self) -> None:
        async def go() -> None:
            async with self.uow() as uow:
                await expire_points(
                    uow, member_id=self.member_id, now=self.clock.now(), rules=RULES, tz=UTC
                )
                await uow.commit()

        self.run(go())

    @rule(days=st.integers(min_value=1, max_value=200))
    def time_passes(self, days: int) -> None:
        self.clock.advance(timedelta(days=days))

    @invariant()
    def ledger_is_append_only_and_matches_the_balance(self) -> None:
        rows, cached = self.run(self._ledger())
        for entry_id, old in self.snapshot.items():
            assert rows.get(entry_id) == old, f"ledger row {entry_id} changed or vanished"
        total = sum(row[2] for row in rows.values())
        assert cached == total
        assert cached >= 0
        self.snapshot = rows

    async def _ledger(self) -> tuple[dict[int, Row], int]:
        async with self.uow() as uow:
            result = await session_of(uow).execute(select(PointsEntry).order_by(PointsEntry.id))
            rows = {
                e.id: (
                    e.member_id,
                    e.reason,
                    e.delta,
                    e.sale_id,
                    e.note,
                    e.earned_at,
                    e.created_at,
                    e.idempotency_key,
                )
                for e in result.scalars()
            }
            return rows, await uow.points.balance(self.member_id)


@pytest.mark.e2e
def test_the_ledger_stays_consistent_under_random_operations(database_url: str) -> None:
    LedgerMachine.url = database_url
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=50,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
