"""Scarce things under concurrent attempts, each in its own unit of work (SQLite and PostgreSQL):
a coupon is used once, points never go below zero, stock is never oversold."""

from __future__ import annotations

import asyncio
import itertools

from sqlalchemy import func, select

from bot.bootstrap import App
from bot.core.errors import DomainError
from bot.core.messages import Channel, Identity, Inbound, InboundKind
from handlers.customer.rewards import buy_reward
from shop.coupons import display_code, redeem_coupon
from storage.models import AuditEntry, Coupon
from storage.raw_session import session_of
from tests.unit.rewards_support import coupon_rows, make_coupon, make_reward, reward_row
from tests.unit.staff_support import make_member, make_staff

_events = itertools.count(1)


async def _redeem_via_bus(app: App, code: str) -> str:
    inbound = Inbound(
        identity=Identity(Channel.TELEGRAM, "c1"),
        kind=InboundKind.TEXT,
        received_at=app.clock.now(),
        event_id=f"race:{next(_events)}",
        text=f"/redeem {display_code(code)}",
    )
    replies = await app.bus.handle(inbound)
    return "\n".join(reply.text for reply in replies)


async def test_fifty_concurrent_redemptions_of_one_coupon_succeed_once(app: App) -> None:
    await make_staff(app, "c1", "cashier", branch_code="asoke")
    member = await make_member(app)
    coupon = await make_coupon(app, member.id)
    # The cashier has used the bot before: two *first* events of one chat account racing each
    # other is a different matter (the identity row), not what this test is about.
    async with app.uow() as uow:
        await uow.identities.touch("telegram", "c1", app.clock.now())
        await uow.commit()
    answers = await asyncio.gather(*(_redeem_via_bus(app, coupon.code) for _ in range(50)))
    assert sum("✅" in answer for answer in answers) == 1
    assert sum("ถูกใช้ไปแล้ว" in answer for answer in answers) == 49
    async with app.uow() as uow:
        audits = await session_of(uow).execute(
            select(func.count()).where(AuditEntry.action == "coupon.redeemed")
        )
        assert audits.scalar_one() == 1
    assert [c.status for c in await coupon_rows(app)] == ["redeemed"]


async def test_concurrent_redeem_coupon_calls_have_one_winner(app: App) -> None:
    member = await make_member(app)
    coupon = await make_coupon(app, member.id)

    async def attempt() -> bool:
        async with app.uow() as uow:
            try:
                await redeem_coupon(uow, coupon.code, None, None, app.clock.now())
            except DomainError:
                return False
            await uow.commit()
            return True

    results = await asyncio.gather(*(attempt() for _ in range(20)))
    assert results.count(True) == 1


async def _buy(app: App, member_id: int, reward_id: int) -> bool:
    async with app.uow() as uow:
        try:
            await buy_reward(uow, member_id, reward_id, app.settings.tz, app.clock.now(), None)
        except DomainError:
            return False
        await uow.commit()
        return True


async def test_ten_concurrent_purchases_never_overdraw_the_balance(app: App) -> None:
    member = await make_member(app, points=100)
    reward = await make_reward(app, cost=20, stock=50)
    results = await asyncio.gather(*(_buy(app, member.id, reward.id) for _ in range(10)))
    won = results.count(True)
    assert won == 5
    async with app.uow() as uow:
        balance = await uow.points.balance(member.id)
        assert balance == await uow.points.ledger_sum(member.id) == 100 - 20 * won >= 0
        issued = await session_of(uow).execute(select(func.count()).select_from(Coupon))
        assert issued.scalar_one() == won
    assert (await reward_row(app, reward.id)).stock == 50 - won


async def test_the_last_item_in_stock_goes_to_one_of_two_buyers(app: App) -> None:
    first = await make_member(app, "Ploy", "0811111111", points=100)
    second = await make_member(app, "Nok", "0822222222", points=100)
    reward = await make_reward(app, cost=20, stock=1)
    results = await asyncio.gather(_buy(app, first.id, reward.id), _buy(app, second.id, reward.id))
    assert sorted(results) == [False, True]
    assert len(await coupon_rows(app)) == 1
    assert (await reward_row(app, reward.id)).stock == 0
    async with app.uow() as uow:
        total = await uow.points.balance(first.id) + await uow.points.balance(second.id)
    assert total == 180  # the loser kept every point
