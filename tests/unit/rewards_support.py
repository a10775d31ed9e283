"""Helpers for reward and coupon tests: a catalog item, a coupon held by a member."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import select

from bot.bootstrap import App
from shop.coupons import issue_coupon
from storage.models import Coupon, Reward
from storage.raw_session import session_of


async def make_reward(
    app: App,
    name_th: str = "ชาไทย",
    name_en: str = "Thai tea",
    cost: int = 20,
    stock: int | None = None,
    branch_codes: Sequence[str] = (),
    valid_days: int = 30,
    active: bool = True,
) -> Reward:
    async with app.uow() as uow:
        reward = await uow.rewards.add(
            app.clock.now(),
            name_th=name_th,
            name_en=name_en,
            points_cost=cost,
            stock=stock,
            branch_codes=list(branch_codes),
            valid_days=valid_days,
        )
        reward.active = active
        await uow.commit()
    return reward


async def make_coupon(
    app: App,
    member_id: int,
    branch_codes: Sequence[str] = (),
    valid: timedelta = timedelta(days=30),
) -> Coupon:
    """A coupon for "Free bubble tea" held by ``member_id``, issued now."""
    now = app.clock.now()
    async with app.uow() as uow:
        coupon = await issue_coupon(
            uow,
            member_id,
            "ชานมไข่มุกฟรี",
            "Free bubble tea",
            now + valid,
            now,
            branch_codes=branch_codes,
        )
        await uow.commit()
    return coupon


async def coupon_rows(app: App) -> list[Coupon]:
    async with app.uow() as uow:
        result = await session_of(uow).execute(select(Coupon).order_by(Coupon.id))
        return list(result.scalars().all())


async def reward_row(app: App, reward_id: int) -> Reward:
    async with app.uow() as uow:
        reward = await uow.rewards.get(reward_id)
        assert reward is not None
        return reward
