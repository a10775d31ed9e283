"""Concurrent counter operations: each attempt in its own unit of work, really at once.

On SQLite the transactions queue behind ``BEGIN IMMEDIATE``; on PostgreSQL the unique receipt
column and the conditional updates decide. Either way exactly one attempt takes effect. A
cashier's daily cap is checked and used under a per-cashier lock, so parallel sales cannot all
pass it.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal

from sqlalchemy import func, select

from bot.bootstrap import App
from bot.core.errors import DomainError
from shop.ledger import SaleResult, record_sale, void_sale
from shop.loyalty import LoyaltyRules
from storage.models import Member, PointsEntry
from storage.raw_session import session_of
from tests.chat import Chat
from tests.unit.sales_support import approvals, balance, ledger, sales
from tests.unit.staff_support import ensure_branch, make_member, make_staff, staff_chat

ATTEMPTS = 10


async def _record(app: App, member_id: int, receipt: str) -> SaleResult:
    async with app.uow() as uow:
        member = await uow.members.get(member_id)
        branch = await uow.branches.by_code("asoke")
        assert member is not None
        assert branch is not None
        result = await record_sale(
            uow,
            member=member,
            amount=Decimal(250),
            branch=branch,
            receipt_no=receipt,
            staff=None,
            now=app.clock.now(),
            rules=LoyaltyRules(),
        )
        await uow.commit()
        return result


async def test_ten_concurrent_records_of_one_receipt_make_one_sale(app: App) -> None:
    await ensure_branch(app, "asoke")
    ploy = await make_member(app, user_id="m1")
    results = await asyncio.gather(*(_record(app, ploy.id, "R1") for _ in range(ATTEMPTS)))
    assert sorted(r.duplicate for r in results) == [False] + [True] * (ATTEMPTS - 1)
    assert {r.sale.id for r in results} == {results[0].sale.id}
    assert len(await sales(app)) == 1
    assert await ledger(app, ploy.id) == [(10, "sale")]
    assert await balance(app, ploy.id) == 10


async def test_ten_concurrent_sale_commands_with_one_receipt_make_one_sale(app: App) -> None:
    await ensure_branch(app, "asoke")
    await make_staff(app, "c1", "cashier", "asoke")
    ploy = await make_member(app, user_id="m1")
    chats = [Chat(app, user_id="c1") for _ in range(ATTEMPTS)]
    await asyncio.gather(*(c.say(f"/sale {ploy.member_code} 250 receipt=R1") for c in chats))
    assert len(await sales(app)) == 1
    assert await ledger(app, ploy.id) == [(10, "sale")]


async def test_concurrent_voids_take_the_points_back_once(app: App) -> None:
    await ensure_branch(app, "asoke")
    owner = await make_staff(app, "o1", "owner")
    ploy = await make_member(app, user_id="m1")
    await _record(app, ploy.id, "R1")

    async def attempt() -> bool:
        try:
            async with app.uow() as uow:
                await void_sale(uow, receipt_no="R1", staff=owner, now=app.clock.now())
                await uow.commit()
        except DomainError:
            return False
        return True

    outcomes = await asyncio.gather(*(attempt() for _ in range(ATTEMPTS)))
    assert outcomes.count(True) == 1
    assert await ledger(app, ploy.id) == [(10, "sale"), (-10, "void")]


async def test_a_concurrently_double_tapped_approve_records_once(app: App) -> None:
    await ensure_branch(app, "asoke")
    cashier = await staff_chat(app, "c1", "cashier", "asoke")
    await make_staff(app, "o1", "owner")
    ploy = await make_member(app, user_id="m1")
    await cashier.say(f"/sale {ploy.member_code} 25000 receipt=BIG")
    [approval] = await approvals(app)
    taps = [Chat(app, user_id="o1") for _ in range(ATTEMPTS)]
    await asyncio.gather(*(tap.press(f"apv:y:{approval.id}") for tap in taps))
    assert [s.receipt_no for s in await sales(app)] == ["BIG"]
    assert await ledger(app, ploy.id) == [(1000, "sale")]


async def _ledger_invariants_hold(app: App) -> None:
    """Every balance is the sum of its ledger, none is negative, no receipt is recorded twice."""
    async with app.uow() as uow:
        session = session_of(uow)
        sums = dict(
            (
                await session.execute(
                    select(PointsEntry.member_id, func.sum(PointsEntry.delta)).group_by(
                        PointsEntry.member_id
                    )
                )
            ).all()
        )
        balances = dict((await session.execute(select(Member.id, Member.points_balance))).all())
    assert all(balances[m] == sums.get(m, 0) for m in balances)
    assert all(b >= 0 for b in balances.values())
    receipts = [s.receipt_no for s in await sales(app)]
    assert len(receipts) == len(set(receipts))


async def test_ten_parallel_sales_from_one_cashier_stop_at_the_daily_cap(app: App) -> None:
    await ensure_branch(app, "asoke")
    async with app.uow() as uow:
        await uow.settings.put("loyalty", {"cashier_daily_cap": 50000}, app.clock.now())
        await uow.commit()
    await make_staff(app, "c1", "cashier", "asoke")
    await make_staff(app, "o1", "owner")
    ploy = await make_member(app, user_id="m1")
    chats = [Chat(app, user_id="c1") for _ in range(ATTEMPTS)]
    await asyncio.gather(*(c.say(f"/sale {ploy.member_code} 15000") for c in chats))
    recorded = await sales(app)
    assert sum(s.amount for s in recorded) == Decimal(45000)
    waiting = await approvals(app)
    assert len(waiting) == ATTEMPTS - len(recorded)
    assert all(a.status == "pending" for a in waiting)
    assert {a.receipt_no for a in waiting}.isdisjoint(s.receipt_no for s in recorded)
    assert await balance(app, ploy.id) == sum(delta for delta, _ in await ledger(app, ploy.id))
    await _ledger_invariants_hold(app)
