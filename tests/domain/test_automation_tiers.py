"""Tier review: downgrade at the review with a notice, once per period."""

from __future__ import annotations

from datetime import timedelta

from bot.bootstrap import App
from bot.core.clock import FrozenClock
from jobs.automations.tiers import run_tier_review
from shop.loyalty import DEFAULT_TIERS
from tests.domain.automation_support import bangkok, outbox_for
from tests.unit.sales_support import texts
from tests.unit.staff_support import make_member


async def _hold_top_tier(app: App, member_id: int) -> None:
    async with app.uow() as uow:
        member = await uow.members.get(member_id)
        assert member is not None
        member.tier = DEFAULT_TIERS[-1].name
        member.tier_since = app.clock.now() - timedelta(days=400)
        await uow.commit()


async def test_a_member_below_their_tier_is_downgraded_at_the_review_with_a_notice(
    app: App, clock: FrozenClock
) -> None:
    clock.set(bangkok(2026, 2, 20, 11))
    member = await make_member(app, "Ploy", user_id="m1")
    await _hold_top_tier(app, member.id)
    assert (await run_tier_review(app))["downgraded"] == 1  # 20 Feb is after the review day
    clock.set(bangkok(2026, 3, 1, 3))
    assert (await run_tier_review(app))["downgraded"] == 0  # already at the lowest tier
    async with app.uow() as uow:
        stored = await uow.members.get(member.id)
        assert stored is not None
        assert stored.tier == DEFAULT_TIERS[0].name
    [notice] = await outbox_for(app, member.id, "tier:")
    assert "2569" in texts(notice)  # the date to climb back by, Buddhist Era


async def test_a_second_review_in_the_same_month_sends_no_second_notice(
    app: App, clock: FrozenClock
) -> None:
    clock.set(bangkok(2026, 3, 1, 11))
    member = await make_member(app, "Ploy", user_id="m1")
    await _hold_top_tier(app, member.id)
    clock.advance(timedelta(minutes=1))
    await run_tier_review(app)
    await run_tier_review(app)
    assert len(await outbox_for(app, member.id, "tier:")) == 1


async def test_a_first_review_sets_the_tier_without_a_notice(app: App, clock: FrozenClock) -> None:
    clock.set(bangkok(2026, 3, 1, 11))
    member = await make_member(app, "Ploy", user_id="m1")
    assert (await run_tier_review(app))["first"] == 1
    assert await outbox_for(app, member.id, "tier:") == []
