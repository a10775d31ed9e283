"""A small hand-built shop whose segment answers are worked out by hand.

Now is Tuesday 2026-03-03 14:30 in Bangkok (07:30 UTC, the ``clock`` fixture). Members:

- **ann**: home Asoke, female, born 1990-03-15 (35), Thai, marketing yes, 500 points, joined
  400 days ago, tag ``vip``, reachable on Telegram, clicked campaign 1. Sales (shop time):
  Asoke Mon 2026-03-02 14:30 200 THB ``tea,snack`` with coupon; Asoke Mon 2026-02-23 15:00
  300 THB ``tea``; Sukhumvit Mon 2025-12-01 10:00 5,000 THB with coupon.
- **bob**: home Sukhumvit, male, born 2000-07-01 (25), English, marketing no, joined 10 days
  ago, reachable on LINE, redeemed a coupon of campaign 1. Sales: Sukhumvit Sat 2026-02-28
  20:00 100 THB ``milk tea`` with coupon; a voided 1,000 THB sale at Asoke.
- **cara**: nothing known but Thai and marketing yes, 50 points, joined 200 days ago, an
  unreachable Telegram identity, no sales.
- **dan**: home Asoke, gender other, born 1960-03-03 (66 today), marketing yes, joined 500
  days ago. One sale: Phetchaburi Sat 2025-11-01 06:00 (Friday 23:00 UTC) 12,000 THB.
- **erin**: erased; an Asoke sale yesterday. Never in any segment.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from bot.bootstrap import App
from storage.models import (
    Campaign,
    CampaignMember,
    ChannelIdentity,
    Coupon,
    Member,
    MemberTag,
    Sale,
)
from storage.raw_session import session_of
from storage.uow import UnitOfWork
from tests.unit.staff_support import ensure_branches

BANGKOK = ZoneInfo("Asia/Bangkok")


def shop_time(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=BANGKOK).astimezone(UTC)


async def build_shop(app: App) -> dict[str, int]:
    """The shop above; returns member ids by first name (and the campaign's id)."""
    branches = await ensure_branches(app)
    async with app.uow() as uow:
        shop = _ShopWriter(uow, branches, app.clock.now())
        members = await _members(shop)
        _sales(shop, members)
        ann, bob, cara = members["ann"], members["bob"], members["cara"]
        shop.identity(ann, "telegram", True)
        shop.identity(bob, "line", True)
        shop.identity(cara, "telegram", False)
        session_of(uow).add(MemberTag(member_id=ann.id, tag="vip", created_at=shop.now))
        await _campaign(shop, ann, bob)
        await uow.commit()
    return shop.ids


class _ShopWriter:
    """Adds the hand-built shop's rows in one unit of work, numbering receipts in order."""

    def __init__(self, uow: UnitOfWork, branches: dict[str, int], now: datetime) -> None:
        self.uow, self.branches, self.now = uow, branches, now
        self.ids: dict[str, int] = {}
        self.receipts = iter(range(1, 100))

    async def member(self, name: str, joined_days: int, **fields: Any) -> Member:
        row = await self.uow.members.add(
            Member(name=name, joined_at=self.now - timedelta(days=joined_days), **fields)
        )
        self.ids[name] = row.id
        return row

    def sale(self, m: Member, branch: str, at: datetime, amount: int, **fields: Any) -> None:
        session_of(self.uow).add(
            Sale(
                receipt_no=f"R{next(self.receipts)}",
                member_id=m.id,
                branch_id=self.branches[branch],
                amount=Decimal(amount),
                occurred_at=at,
                **fields,
            )
        )

    def identity(self, m: Member, channel: str, reachable: bool) -> None:
        session_of(self.uow).add(
            ChannelIdentity(
                channel=channel,
                user_id=f"{channel}-{m.name}",
                member_id=m.id,
                reachable=reachable,
                first_seen_at=self.now,
                last_seen_at=self.now,
            )
        )


async def _members(shop: _ShopWriter) -> dict[str, Member]:
    branches, now = shop.branches, shop.now
    ann = await shop.member(
        "ann", 400, home_branch_id=branches["asoke"], gender="female",
        birthday=date(1990, 3, 15), locale="th", marketing_opt_in=True, points_balance=500,
    )  # fmt: skip
    bob = await shop.member(
        "bob", 10, home_branch_id=branches["sukhumvit"], gender="male",
        birthday=date(2000, 7, 1), locale="en", marketing_opt_in=False,
    )  # fmt: skip
    cara = await shop.member("cara", 200, locale="th", marketing_opt_in=True, points_balance=50)
    dan = await shop.member(
        "dan", 500, home_branch_id=branches["asoke"], gender="other",
        birthday=date(1960, 3, 3), locale="th", marketing_opt_in=True,
    )  # fmt: skip
    erin = await shop.member(
        "erin", 5, home_branch_id=branches["asoke"], erased_at=now, marketing_opt_in=True
    )
    return {"ann": ann, "bob": bob, "cara": cara, "dan": dan, "erin": erin}


def _sales(shop: _ShopWriter, members: dict[str, Member]) -> None:
    ann, bob, dan, erin = members["ann"], members["bob"], members["dan"], members["erin"]
    shop.sale(ann, "asoke", shop_time(2026, 3, 2, 14, 30), 200, categories="tea,snack",
              used_coupon=True)  # fmt: skip
    shop.sale(ann, "asoke", shop_time(2026, 2, 23, 15, 0), 300, categories="tea")
    shop.sale(ann, "sukhumvit", shop_time(2025, 12, 1, 10, 0), 5000, used_coupon=True)
    shop.sale(bob, "sukhumvit", shop_time(2026, 2, 28, 20, 0), 100, categories="milk tea",
              used_coupon=True)  # fmt: skip
    shop.sale(bob, "asoke", shop_time(2026, 3, 1, 12, 0), 1000, voided_at=shop.now)
    shop.sale(dan, "phetchaburi", shop_time(2025, 11, 1, 6, 0), 12000)
    shop.sale(erin, "asoke", shop_time(2026, 3, 2, 12, 0), 150)


async def _campaign(shop: _ShopWriter, ann: Member, bob: Member) -> None:
    """Campaign 1: ann clicked it, bob redeemed its coupon."""
    s, now = session_of(shop.uow), shop.now
    campaign = Campaign(
        name="Summer 1-get-1", segment_name="all", rule="visits >= 1", message="hi",
        created_by="test", created_at=now,
    )  # fmt: skip
    s.add(campaign)
    await shop.uow.flush()
    shop.ids["campaign"] = campaign.id
    s.add(CampaignMember(campaign_id=campaign.id, member_id=ann.id, group="recipient",
                         clicked_at=now))  # fmt: skip
    s.add(CampaignMember(campaign_id=campaign.id, member_id=bob.id, group="recipient"))
    s.add(
        Coupon(
            code="CMP-1", member_id=bob.id, campaign_id=campaign.id, title_th="1 แถม 1",
            title_en="1-get-1", status="redeemed", issued_at=now, expires_at=now,
            redeemed_at=now,
        )
    )  # fmt: skip
