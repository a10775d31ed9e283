"""The reward catalog and the coupons members hold.

Both scarce things here — a reward's stock and a coupon's single use — change only through a
conditional ``UPDATE … WHERE`` whose row count says who won. That is safe under concurrency on
PostgreSQL (the second writer waits for the row lock, then re-checks the condition) and on
SQLite (every transaction starts with ``BEGIN IMMEDIATE``), without ``SELECT … FOR UPDATE``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import case, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Branch, Coupon, Reward

ISSUED = "issued"
REDEEMED = "redeemed"


class Rewards:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def get(self, reward_id: int) -> Reward | None:
        return await self._s.get(Reward, reward_id, populate_existing=True)

    async def all(self) -> Sequence[Reward]:
        """The whole catalog for the owner, active ones first."""
        result = await self._s.execute(
            select(Reward).order_by(Reward.active.desc(), Reward.points_cost, Reward.id)
        )
        return result.scalars().all()

    async def available(self, now: datetime) -> Sequence[Reward]:
        """What a member may buy right now: active, within its dates, with stock left, and
        usable at an open branch (a coupon only a closed branch takes could never be used)."""
        result = await self._s.execute(
            select(Reward).where(*_available(now)).order_by(Reward.points_cost, Reward.id)
        )
        rewards = result.scalars().all()
        if not any(reward.branch_codes for reward in rewards):
            return rewards
        opened = await self._s.execute(select(Branch.code).where(Branch.active.is_(True)))
        open_codes = set(opened.scalars())
        return [r for r in rewards if not r.branch_codes or open_codes.intersection(r.branch_codes)]

    async def add(self, now: datetime, **fields: Any) -> Reward:
        reward = Reward(created_at=now, active=True, **fields)
        self._s.add(reward)
        await self._s.flush()
        return reward

    async def take_one(self, reward_id: int, now: datetime, points_cost: int | None = None) -> bool:
        """Take one unit of stock if the reward is still available (and, given ``points_cost``,
        still has that price); False when it is not.

        Unlimited rewards (``stock IS NULL``) are still checked for being active and in date;
        a reward limited to branches needs one of them open, checked in the same ``UPDATE``.
        """
        codes = await self._s.scalar(select(Reward.branch_codes).where(Reward.id == reward_id))
        if codes is None:
            return False
        conditions = [*_available(now)]
        if codes:
            conditions.append(exists().where(Branch.code.in_(codes), Branch.active.is_(True)))
        if points_cost is not None:
            conditions.append(Reward.points_cost == points_cost)
        result = await self._s.execute(
            update(Reward)
            .where(Reward.id == reward_id, *conditions)
            .values(stock=case((Reward.stock.is_(None), None), else_=Reward.stock - 1))
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def _available(now: datetime) -> tuple[Any, ...]:
    return (
        Reward.active.is_(True),
        or_(Reward.starts_at.is_(None), Reward.starts_at <= now),
        or_(Reward.ends_at.is_(None), Reward.ends_at > now),
        or_(Reward.stock.is_(None), Reward.stock > 0),
    )


class Coupons:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def get(self, coupon_id: int) -> Coupon | None:
        """The row as committed now (not a copy cached earlier in this unit of work)."""
        return await self._s.get(Coupon, coupon_id, populate_existing=True)

    async def by_code(self, code: str) -> Coupon | None:
        result = await self._s.execute(select(Coupon).where(Coupon.code == code))
        return result.scalar_one_or_none()

    async def code_taken(self, code: str) -> bool:
        result = await self._s.execute(select(Coupon.id).where(Coupon.code == code))
        return result.first() is not None

    async def add(self, coupon: Coupon) -> Coupon:
        self._s.add(coupon)
        await self._s.flush()
        return coupon

    async def of_member(
        self, member_id: int, now: datetime, limit: int = 20, offset: int = 0
    ) -> Sequence[Coupon]:
        """A member's coupons: usable ones first (soonest expiry first), then the rest, newest
        first; ``limit`` of them from the ``offset``-th."""
        usable = (Coupon.status == ISSUED) & (Coupon.expires_at > now)
        result = await self._s.execute(
            select(Coupon)
            .where(Coupon.member_id == member_id)
            .order_by(
                case((usable, 0), else_=1),
                case((usable, Coupon.expires_at), else_=None),
                func.coalesce(Coupon.redeemed_at, Coupon.expires_at).desc(),
                Coupon.id.desc(),
            )
            .limit(limit)
            .offset(offset)
        )
        return result.scalars().all()

    async def count_of_member(self, member_id: int) -> int:
        """How many coupons :meth:`of_member` lists in all, for its pages."""
        count = await self._s.scalar(
            select(func.count()).select_from(Coupon).where(Coupon.member_id == member_id)
        )
        return int(count or 0)

    async def mark_redeemed(
        self, coupon_id: int, now: datetime, branch_id: int | None, staff_id: int | None
    ) -> bool:
        """Use the coupon; True for the one caller that did it, False if it was not usable."""
        result = await self._s.execute(
            update(Coupon)
            .where(Coupon.id == coupon_id, Coupon.status == ISSUED, Coupon.expires_at > now)
            .values(
                status=REDEEMED,
                redeemed_at=now,
                redeemed_branch_id=branch_id,
                redeemed_by_staff_id=staff_id,
            )
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]
