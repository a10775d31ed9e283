"""The demo shop's counter side: staff, a reward catalog, and coupons in the history.

Rows go straight in with Core (like the rest of the synthetic shop) rather than through the
reward service, so the demo does not depend on handler code. Coupons bought with points come
with their ``redeem`` ledger debit and the cached balance moved by the same amount, so the
ledger invariant (balance = sum of entries, never negative) holds in the demo too.

Staff are console identities, so ``chatcrm chat --as owner`` (user ``owner``), ``--as
manager`` (``manager``) and ``--as cashier`` (``cashier-asoke`` … one per branch) act at once.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.models import Branch, Coupon, Member, PointsEntry, Reward, Staff, table_of
from storage.repositories.members import CODE_ALPHABET

CONSOLE: Final = "console"
COUPON_CODE_LENGTH: Final = 13  # 31**13 > 2**64: at least 64 bits of randomness
#: share of members with enough points who bought a reward coupon
COUPON_SHARE: Final = 0.2

#: (Thai name, English name, points cost, stock or None, branch codes)
REWARDS: Final[tuple[tuple[str, str, int, int | None, tuple[str, ...]], ...]] = (
    ("ท็อปปิ้งไข่มุกฟรี", "Free pearl topping", 10, None, ()),
    ("พุดดิ้งไข่ฟรี", "Free egg pudding topping", 15, None, ()),
    ("ชาไทยเย็น 1 แก้ว", "One Thai iced tea", 40, None, ()),
    ("ชานมไข่มุก 1 แก้ว", "One bubble milk tea", 50, None, ()),
    ("มัทฉะลาเต้ 1 แก้ว", "One matcha latte", 60, None, ()),
    ("แก้วเก็บความเย็นรุ่นพิเศษ", "Limited-edition tumbler", 300, 25, ()),
    ("ชุดขนมอโศก", "Asoke snack set", 120, None, ("asoke",)),
)


@dataclass(frozen=True)
class CounterSummary:
    staff: int
    rewards: int
    coupons: int
    redeemed: int


def coupon_code(rng: random.Random) -> str:
    return "".join(rng.choice(CODE_ALPHABET) for _ in range(COUPON_CODE_LENGTH))


def console_user(role: str, branch_code: str | None = None) -> str:
    """The console user id of a demo staff account."""
    return f"{role}-{branch_code}" if branch_code else role


async def _add_staff(connection: AsyncConnection, now: datetime) -> dict[int, int]:
    """Owner, manager and one cashier per branch; returns cashier staff id by branch id."""
    branches = (await connection.execute(select(Branch.id, Branch.code, Branch.name_en))).all()
    rows: list[dict[str, Any]] = [
        {"user_id": "owner", "name": "Owner (เจ้าของร้าน)", "role": "owner", "branch_id": None},
        {"user_id": "manager", "name": "Manager (ผู้จัดการ)", "role": "manager", "branch_id": None},
    ]
    for branch_id, code, name_en in branches:
        rows.append(
            {
                "user_id": console_user("cashier", code),
                "name": f"Cashier {name_en}",
                "role": "cashier",
                "branch_id": branch_id,
            }
        )
    for row in rows:
        row.update(channel=CONSOLE, active=True, created_at=now)
    await connection.execute(insert(table_of(Staff)), rows)
    cashiers = await connection.execute(
        select(Staff.branch_id, Staff.id).where(Staff.role == "cashier", Staff.channel == CONSOLE)
    )
    return {int(branch_id): int(staff_id) for branch_id, staff_id in cashiers if branch_id}


async def _add_rewards(connection: AsyncConnection, now: datetime) -> list[dict[str, Any]]:
    rows = [
        {
            "name_th": name_th,
            "name_en": name_en,
            "points_cost": cost,
            "stock": stock,
            "branch_codes": list(branch_codes),
            "valid_days": 30,
            "active": True,
            "created_at": now - timedelta(days=90),
        }
        for name_th, name_en, cost, stock, branch_codes in REWARDS
    ]
    await connection.execute(insert(table_of(Reward)), rows)
    result = await connection.execute(select(table_of(Reward)).order_by(Reward.id))
    return [dict(row._mapping) for row in result]


async def add_counter(engine: AsyncEngine, *, now: datetime, seed: int = 42) -> CounterSummary:
    """Add staff, the reward catalog and a history of coupons to a synthetic shop."""
    rng = random.Random(seed)
    async with engine.begin() as connection:
        cashiers = await _add_staff(connection, now)
        rewards = await _add_rewards(connection, now)
        members = (
            await connection.execute(
                select(Member.id, Member.points_balance, Member.home_branch_id)
                .where(Member.points_balance >= min(r["points_cost"] for r in rewards))
                .order_by(Member.id)
            )
        ).all()
        coupons, debits, taken = [], [], {int(r["id"]): 0 for r in rewards}
        for member_id, balance, home in members:
            if rng.random() >= COUPON_SHARE:
                continue
            affordable = [r for r in rewards if r["points_cost"] <= balance]
            reward = rng.choice(affordable)
            if reward["stock"] is not None and taken[reward["id"]] >= reward["stock"]:
                continue
            taken[reward["id"]] += 1
            issued = now - timedelta(days=rng.uniform(1, 45))
            expires = issued + timedelta(days=reward["valid_days"])
            coupon = {
                "code": coupon_code(rng),
                "member_id": member_id,
                "reward_id": reward["id"],
                "title_th": reward["name_th"],
                "title_en": reward["name_en"],
                "points_spent": reward["points_cost"],
                "branch_codes": reward["branch_codes"],
                "status": "issued" if expires > now else "expired",
                "issued_at": issued,
                "expires_at": expires,
                "redeemed_at": None,
                "redeemed_branch_id": None,
                "redeemed_by_staff_id": None,
            }
            if rng.random() < 0.6 and home in cashiers:
                redeemed = min(issued + timedelta(days=rng.uniform(0, 10)), now)
                coupon.update(
                    status="redeemed",
                    redeemed_at=redeemed,
                    redeemed_branch_id=home,
                    redeemed_by_staff_id=cashiers[home],
                )
            coupons.append(coupon)
            debits.append(
                {
                    "member_id": member_id,
                    "delta": -reward["points_cost"],
                    "reason": "redeem",
                    "sale_id": None,
                    "note": reward["name_en"],
                    "earned_at": issued,
                    "created_at": issued,
                    "idempotency_key": f"redeem:{coupon['code']}",
                }
            )
        await _write_coupons(connection, coupons, debits, taken)
    return CounterSummary(
        staff=len(cashiers) + 2,
        rewards=len(rewards),
        coupons=len(coupons),
        redeemed=sum(1 for coupon in coupons if coupon["status"] == "redeemed"),
    )


async def _write_coupons(
    connection: AsyncConnection,
    coupons: list[dict[str, Any]],
    debits: list[dict[str, Any]],
    taken: dict[int, int],
) -> None:
    if not coupons:
        return
    await connection.execute(insert(table_of(Coupon)), coupons)
    await connection.execute(insert(table_of(PointsEntry)), debits)
    members = table_of(Member)
    await connection.execute(
        update(members)
        .where(members.c.id == bindparam("member"))
        .values(points_balance=members.c.points_balance + bindparam("delta")),
        [{"member": debit["member_id"], "delta": debit["delta"]} for debit in debits],
    )
    rewards = table_of(Reward)
    limited = [{"reward": rid, "used": used} for rid, used in taken.items() if used]
    if not limited:
        return
    await connection.execute(
        update(rewards)
        .where(rewards.c.id == bindparam("reward"), rewards.c.stock.is_not(None))
        .values(stock=rewards.c.stock - bindparam("used")),
        limited,
    )
