"""The demo shop's counter: staff per branch, a reward catalog, coupons with their debits."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.models import Branch, Coupon, Member, PointsEntry, Reward, Staff
from storage.synthetic import generate_shop
from storage.synthetic.loyalty import REWARDS, CounterSummary, add_counter

NOW = datetime(2026, 3, 3, 7, 30, tzinfo=UTC)


@pytest.fixture
async def counter(engine: AsyncEngine) -> CounterSummary:
    await generate_shop(engine, members=300, months=3, seed=5, now=NOW)
    return await add_counter(engine, now=NOW, seed=5)


async def test_owner_manager_and_a_cashier_per_branch(
    engine: AsyncEngine, counter: CounterSummary
) -> None:
    async with engine.connect() as connection:
        staff = (
            await connection.execute(
                select(Staff.user_id, Staff.role, Branch.code).outerjoin(
                    Branch, Branch.id == Staff.branch_id
                )
            )
        ).all()
    assert ("owner", "owner", None) in staff
    assert ("manager", "manager", None) in staff
    assert ("cashier-asoke", "cashier", "asoke") in staff
    assert counter.staff == len(staff) == 7


async def test_the_catalog_has_thai_and_english_names_and_one_limited_reward(
    engine: AsyncEngine, counter: CounterSummary
) -> None:
    async with engine.connect() as connection:
        rewards = (await connection.execute(select(Reward.name_th, Reward.stock))).all()
    assert len(rewards) == len(REWARDS) == counter.rewards
    assert sum(1 for _, stock in rewards if stock is not None) == 1


async def test_coupons_come_with_debits_that_keep_balances_equal_to_the_ledger(
    engine: AsyncEngine, counter: CounterSummary
) -> None:
    async with engine.connect() as connection:
        coupons = (await connection.execute(select(func.count()).select_from(Coupon))).scalar()
        redeems = (
            await connection.execute(select(func.count()).where(PointsEntry.reason == "redeem"))
        ).scalar()
        sums = dict(
            (
                await connection.execute(
                    select(PointsEntry.member_id, func.sum(PointsEntry.delta)).group_by(
                        PointsEntry.member_id
                    )
                )
            ).all()
        )
        balances = dict((await connection.execute(select(Member.id, Member.points_balance))).all())
    assert coupons == redeems == counter.coupons > 0
    assert 0 < counter.redeemed < counter.coupons
    assert balances == sums
    assert min(balances.values()) >= 0


async def test_coupon_codes_are_long_enough_to_be_unguessable(
    engine: AsyncEngine, counter: CounterSummary
) -> None:
    async with engine.connect() as connection:
        codes = (await connection.execute(select(Coupon.code))).scalars().all()
    assert all(len(code) >= 13 for code in codes)
    assert len(set(codes)) == len(codes)
