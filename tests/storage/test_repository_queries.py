"""Repository queries the chat handlers call whose edge cases no handler test reaches: the
campaign /stats picks without an argument, an audience walked page by page, the sample's
limit, and an approval decided twice."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from bot.bootstrap import App
from storage.models import Member, SaleApproval
from tests.domain.campaign_support import make_campaign
from tests.unit.staff_support import make_member, make_staff


async def test_newest_campaigns_prefer_the_last_started_then_the_last_made(app: App) -> None:
    now = app.clock.now()
    async with app.uow() as uow:
        assert await uow.campaigns.newest() is None
        assert await uow.campaigns.newest_started() is None
    first = await make_campaign(app, name="tea", started_at=now - timedelta(days=2))
    second = await make_campaign(app, name="tea", started_at=now - timedelta(days=3))
    draft = await make_campaign(app, name="draft")
    async with app.uow() as uow:
        found = [
            await uow.campaigns.newest_started(),
            await uow.campaigns.newest(),
            await uow.campaigns.newest_named("tea"),
        ]
        unknown = await uow.campaigns.newest_named("Tea")
    # by start time (not id), the last made, the newest of that name (by id)
    assert [c.id if c else None for c in found] == [first.id, draft.id, second.id]
    assert unknown is None  # names match exactly


async def test_an_audience_is_walked_in_pages_and_sampled_by_member_id(app: App) -> None:
    ids = [(await make_member(app, f"m{i}", f"08{i:08d}")).id for i in range(5)]
    rows = select(Member.id.label("member_id"), Member.name).order_by(Member.id)
    async with app.uow() as uow:
        pages, last = [], 0
        while page := await uow.audiences.page_rows(rows, last, 2):
            pages.append([row.member_id for row in page])
            last = page[-1].member_id
        sample = await uow.audiences.first_members(select(Member.id), 3)
    assert pages == [ids[0:2], ids[2:4], ids[4:5]]
    assert [name for name, _ in sample] == ["m0", "m1", "m2"]


async def test_an_approval_is_decided_once(app: App) -> None:
    member = await make_member(app)
    cashier = await make_staff(app, "c1", "cashier", branch_code="asoke")
    owner = await make_staff(app, "o1", "owner")
    assert cashier.branch_id is not None
    now = app.clock.now()
    async with app.uow() as uow:
        approval = await uow.approvals.add(
            SaleApproval(
                requested_by_staff_id=cashier.id,
                member_id=member.id,
                branch_id=cashier.branch_id,
                receipt_no="R-1",
                amount=Decimal("25000"),
                status="pending",
                created_at=now,
            )
        )
        assert await uow.approvals.by_receipt("R-1", cashier.branch_id) is approval
        assert await uow.approvals.by_receipt("R-2", cashier.branch_id) is None
        assert await uow.approvals.decide(approval, "declined", owner.id, now) is True
        assert await uow.approvals.decide(approval, "approved", owner.id, now) is False
        assert (approval.status, approval.decided_by_staff_id) == ("declined", owner.id)
