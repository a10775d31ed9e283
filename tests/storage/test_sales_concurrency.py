"""Concurrent counter operations: each attempt in its own unit of work, really at once.

On SQLite the transactions queue behind ``BEGIN IMMEDIATE``; on PostgreSQL the unique receipt
column and the conditional updates decide. Either way exactly one attempt takes effect.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal

from bot.bootstrap import App
from bot.core.errors import DomainError
from shop.ledger import SaleResult, record_sale, void_sale
from shop.loyalty import LoyaltyRules
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
