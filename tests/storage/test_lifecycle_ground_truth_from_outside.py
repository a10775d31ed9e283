"""Lifecycle groups from outside: each member is built to fit one group by a clear margin
(README thresholds: new 30 days, returning 2-4 and regular 5+ visits in 90 days, fan 5,000 THB
in 365 days, deal seeker half the visits with a coupon and 2+ visits, lapsed 60 days), with
voided coupon sales and an erased regular that must count for nothing."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from bot.bootstrap import App
from storage.models import Member, Sale
from storage.raw_session import session_of
from storage.reports import lifecycle_counts, shop_report
from storage.segments import SegmentEnv
from tests.storage.segment_support import BANGKOK
from tests.storage.test_segment_compiler import selected
from tests.unit.staff_support import ensure_branches

#: member → (days since joining, [(days ago, amount, with coupon, voided)]), expected group
SHOP: dict[str, tuple[int, list[tuple[int, int, bool, bool]], str]] = {
    "deals": (300, [(5, 100, True, False), (6, 100, True, False), (7, 100, False, False)],
              "deal_seeker"),
    "voided_deals": (300, [(5, 100, False, False), (6, 100, False, False),
                           (7, 100, True, True), (8, 100, True, True)], "returning"),
    "fan": (400, [(200, 6000, False, False)], "fan"),
    "regular": (300, [(d, 80, False, False) for d in (1, 10, 20, 30, 40)], "regular"),
    "returning": (300, [(3, 80, False, False), (50, 80, False, False)], "returning"),
    "new": (10, [], "new"),
    "lapsed": (300, [(100, 80, False, False)], "lapsed"),
    "other": (300, [(10, 80, False, False)], "other"),
    "erased": (300, [(d, 80, False, False) for d in (1, 2, 3, 4, 5)], ""),
}  # fmt: skip


async def _shop(app: App) -> None:
    branch = (await ensure_branches(app, ("asoke",)))["asoke"]
    now = app.clock.now()
    receipts = iter(range(1000))
    async with app.uow() as uow:
        for name, (joined, sales, _) in SHOP.items():
            member = await uow.members.add(
                Member(
                    name=name,
                    locale="th",
                    marketing_opt_in=True,
                    joined_at=now - timedelta(days=joined),
                    erased_at=now if name == "erased" else None,
                )
            )
            for days, amount, coupon, voided in sales:
                at = now - timedelta(days=days, hours=1)
                session_of(uow).add(
                    Sale(
                        receipt_no=f"R{next(receipts)}",
                        member_id=member.id,
                        branch_id=branch,
                        amount=Decimal(amount),
                        occurred_at=at,
                        used_coupon=coupon,
                        voided_at=at if voided else None,
                    )
                )
        await uow.commit()


async def test_the_report_puts_each_member_in_the_group_built_for_them(app: App) -> None:
    await _shop(app)
    async with app.uow() as uow:
        counts = await lifecycle_counts(uow, SegmentEnv(app.clock.now(), BANGKOK))
    expected = {group: 0 for group in counts}
    for _, _, group in SHOP.values():
        if group:
            expected[group] += 1
    assert counts == expected


@pytest.mark.parametrize("group", ["deal_seeker", "fan", "regular", "returning", "new", "lapsed"])
async def test_each_built_in_segment_holds_its_members(app: App, group: str) -> None:
    """A segment is its rule, so groups overlap; the member built for it is always in it,
    the erased member never."""
    await _shop(app)
    found = await selected(app, f"segment = {group}")
    assert {name for name, (_, _, g) in SHOP.items() if g == group} <= found
    assert "erased" not in found
    if group == "deal_seeker":
        assert found == {"deals"}  # voided coupon sales are no deals


async def _new_counts(app: App, hours: int) -> tuple[int, int]:
    """/report's new members and its lifecycle group 'new' with one member who joined
    ``hours`` ago."""
    now = app.clock.now()  # Tuesday 14:30 in Bangkok
    async with app.uow() as uow:
        await uow.members.add(Member(name="n", locale="th", joined_at=now - timedelta(hours=hours)))
        await uow.commit()
    async with app.uow() as uow:
        report = await shop_report(uow, SegmentEnv(now, BANGKOK), Decimal(1), (("m", Decimal(0)),))
    return report.new_members, report.by_group["new"]


@pytest.mark.parametrize(("hours", "new"), [(0, 1), (4, 1), (30 * 24 - 1, 1), (31 * 24, 0)])
async def test_the_report_s_new_members_are_its_new_group(app: App, hours: int, new: int) -> None:
    assert await _new_counts(app, hours) == (new, new)


async def test_a_member_who_joined_30_shop_days_ago_is_new_in_both(app: App) -> None:
    new_members, new_group = await _new_counts(app, 30 * 24 + 4)
    assert new_members == new_group
