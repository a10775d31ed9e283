"""``expire_points``: first in, first out, idempotent per day, never below zero."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from bot.bootstrap import App
from bot.core.clock import FrozenClock
from shop.ledger import expire_points, record_sale, void_sale
from shop.loyalty import LoyaltyRules, add_months, expiring_points
from storage.models import Staff
from tests.unit.sales_support import balance, ledger
from tests.unit.staff_support import ensure_branch, make_member, make_staff

RULES = LoyaltyRules()


async def _sell(app: App, member_id: int, amount: str, receipt: str) -> None:
    async with app.uow() as uow:
        member = await uow.members.get(member_id)
        branch = await uow.branches.by_code("asoke")
        assert member is not None
        assert branch is not None
        await record_sale(
            uow,
            member=member,
            amount=Decimal(amount),
            branch=branch,
            receipt_no=receipt,
            staff=None,
            now=app.clock.now(),
            rules=RULES,
        )
        await uow.commit()


async def _spend(app: App, member_id: int, points: int) -> None:
    async with app.uow() as uow:
        await uow.points.append(member_id, -points, "redeem", app.clock.now())
        await uow.commit()


async def _expire(app: App, member_id: int) -> int:
    async with app.uow() as uow:
        expired = await expire_points(
            uow, member_id=member_id, now=app.clock.now(), rules=RULES, tz=app.settings.tz
        )
        await uow.commit()
    return expired


async def _member(app: App) -> int:
    await ensure_branch(app, "asoke")
    return (await make_member(app, user_id="m1")).id


async def test_points_older_than_twelve_months_expire(app: App, clock: FrozenClock) -> None:
    member_id = await _member(app)
    await _sell(app, member_id, "2500", "A")  # 100 points
    clock.advance(timedelta(days=200))
    await _sell(app, member_id, "1250", "B")  # 50 points
    clock.set(add_months(clock.now() - timedelta(days=200), 12))
    assert await _expire(app, member_id) == 100
    assert await ledger(app, member_id) == [(100, "sale"), (50, "sale"), (-100, "expire")]


async def test_spending_uses_up_the_oldest_points_first(app: App, clock: FrozenClock) -> None:
    member_id = await _member(app)
    start = clock.now()
    await _sell(app, member_id, "2500", "A")  # 100 points
    clock.advance(timedelta(days=180))
    await _sell(app, member_id, "1250", "B")  # 50 points
    clock.advance(timedelta(days=30))
    await _spend(app, member_id, 80)
    clock.set(add_months(start, 12) + timedelta(days=1))
    assert await _expire(app, member_id) == 20
    assert await balance(app, member_id) == 50


async def test_a_second_run_on_the_same_day_expires_nothing(app: App, clock: FrozenClock) -> None:
    member_id = await _member(app)
    await _sell(app, member_id, "2500", "A")
    clock.advance(timedelta(days=400))
    assert await _expire(app, member_id) == 100
    assert await _expire(app, member_id) == 0
    assert await ledger(app, member_id) == [(100, "sale"), (-100, "expire")]


async def test_a_void_takes_back_its_own_sales_points_first(app: App, clock: FrozenClock) -> None:
    member_id = await _member(app)
    owner: Staff = await make_staff(app, "o1", "owner")
    start = clock.now()
    await _sell(app, member_id, "2500", "OLD")  # 100 points
    clock.advance(timedelta(days=300))
    await _sell(app, member_id, "1000", "NEW")  # 40 points
    async with app.uow() as uow:
        await void_sale(uow, receipt_no="NEW", staff=owner, now=clock.now())
        await uow.commit()
    clock.set(add_months(start, 12))
    assert await _expire(app, member_id) == 100
    assert await balance(app, member_id) == 0


async def test_an_old_debt_is_paid_by_later_points_and_never_expires_below_zero(
    app: App, clock: FrozenClock
) -> None:
    member_id = await _member(app)
    async with app.uow() as uow:  # data from before the no-debt rule
        await uow.points.append(member_id, 100, "sale", clock.now())
        await uow.points.append(member_id, -150, "void", clock.now(), allow_negative=True)
        await uow.commit()
    clock.advance(timedelta(days=1))
    await _sell(app, member_id, "750", "C")  # 30 points, all owed
    clock.advance(timedelta(days=800))
    assert await _expire(app, member_id) == 0
    assert await balance(app, member_id) == -20


async def test_points_shows_what_the_expiry_will_take(app: App, clock: FrozenClock) -> None:
    member_id = await _member(app)
    await _sell(app, member_id, "2500", "A")
    clock.advance(timedelta(days=100))
    await _sell(app, member_id, "500", "B")
    await _spend(app, member_id, 30)
    clock.advance(timedelta(days=300))
    async with app.uow() as uow:
        shown = expiring_points(await uow.points.entries(member_id), clock.now(), app.settings.tz)
    assert shown == 70
    assert await _expire(app, member_id) == shown
