"""/report numbers equal hand counts on a small shop."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from bot.bootstrap import App
from handlers.staff.report import point_value
from shop.loyalty import LoyaltyRules
from storage.models import Member, Sale
from storage.raw_session import session_of
from storage.reports import shop_report
from storage.segments import SegmentEnv
from tests.unit.staff_support import ensure_branches, staff_chat

NOW = datetime(2026, 3, 3, 7, 30, tzinfo=UTC)  # the clock fixture: Tuesday 14:30 in Bangkok


async def _shop(app: App) -> None:
    branches = await ensure_branches(app, ("asoke", "sukhumvit"))
    async with app.uow() as uow:
        old = Member(
            member_code="A1",
            name="Old",
            locale="th",
            points_balance=400,
            joined_at=NOW - timedelta(days=200),
            marketing_opt_in=True,
        )
        new = Member(
            member_code="A2",
            name="New",
            locale="th",
            points_balance=100,
            joined_at=NOW - timedelta(days=3),
            marketing_opt_in=True,
        )
        gone = Member(
            member_code="A3",
            name=None,
            locale="th",
            points_balance=0,
            joined_at=NOW - timedelta(days=5),
            erased_at=NOW - timedelta(days=1),
        )
        for member in (old, new, gone):
            session_of(uow).add(member)
        await uow.flush()
        sales = [
            (old.id, "asoke", "100", NOW - timedelta(days=1)),  # Mon 14:30 Bangkok
            (old.id, "asoke", "3000", NOW - timedelta(days=2, hours=5)),  # Sun 09:30
            (new.id, "sukhumvit", "50", NOW - timedelta(hours=1)),  # Tue 13:30
            (new.id, "sukhumvit", "999", NOW - timedelta(hours=2)),  # voided
            (old.id, "asoke", "700", NOW - timedelta(days=40)),  # too old
        ]
        for i, (member_id, branch, amount, at) in enumerate(sales):
            session_of(uow).add(
                Sale(
                    receipt_no=f"R{i}",
                    member_id=member_id,
                    branch_id=branches[branch],
                    amount=Decimal(amount),
                    occurred_at=at,
                    voided_at=at if amount == "999" else None,
                )
            )
        await uow.commit()


async def test_report_numbers_equal_the_hand_count(app: App) -> None:
    await _shop(app)
    tiers = (("member", Decimal(0)), ("silver", Decimal(3000)), ("gold", Decimal(10000)))
    value = point_value(None, LoyaltyRules())
    async with app.uow() as uow:
        report = await shop_report(uow, SegmentEnv(NOW, app.settings.tz), value, tiers)
    assert (report.members, report.new_members, report.active_members) == (2, 1, 2)
    assert sum(report.by_group.values()) == 2
    assert report.by_tier == {"member": 1, "silver": 1, "gold": 0}  # Old spent 3,800 in a year
    assert report.points_outstanding == 500
    assert value == Decimal("1.25")
    assert report.liability == Decimal("625.00")
    assert [(b.code, b.sales, b.revenue) for b in report.by_branch] == [
        ("asoke", 2, Decimal("3100.00")),
        ("sukhumvit", 1, Decimal("50.00")),
    ]
    assert report.revenue_by_weekday == [
        Decimal(x) for x in ("100", "50", "0", "0", "0", "0", "3000")
    ]
    assert report.revenue_by_hour[14] == Decimal("100.00")
    assert report.revenue_by_hour[13] == Decimal("50.00")
    assert report.revenue_by_hour[9] == Decimal("3000.00")
    assert (report.sales_last_30d, report.revenue_last_30d) == (3, Decimal("3150.00"))


async def test_report_command_sends_text_and_five_charts(app: App) -> None:
    await _shop(app)
    manager = await staff_chat(app, "mg", "manager", language_code="en")
    replies = await manager.say("/report")
    assert "Members 2 · new 1 · active 2" in replies[0].text
    assert "Points held 500 ≈ ฿625 owed" in replies[0].text
    assert [r.attachment.mime_type for r in replies[1:] if r.attachment] == ["image/png"] * 5


async def test_a_cashier_may_not_see_the_report(app: App) -> None:
    cashier = await staff_chat(app, "c1", "cashier", language_code="en")
    replies = await cashier.say("/report")
    assert len(replies) == 1
    assert replies[0].attachment is None


async def test_report_charts_name_the_tiers_as_the_owner_does(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The tier chart reads the owner's display names, as the report's text does."""
    from matplotlib.text import Text

    await _shop(app)
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    await owner.press("set:tne:1:en")
    await owner.say("Platinum Friends")
    drawn: list[str] = []
    original = Text.draw

    def spy(self: Text, renderer: Any) -> None:
        drawn.append(self.get_text())
        original(self, renderer)

    monkeypatch.setattr(Text, "draw", spy)
    replies = await owner.say("/report")
    assert "Platinum Friends" in replies[0].text
    assert "Platinum Friends" in drawn
    assert "Silver" not in drawn
