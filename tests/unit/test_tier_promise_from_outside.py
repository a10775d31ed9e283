"""The tier review's downgrade notice ("You are now Silver. Spend X more by DATE to get Gold
back"), taken at its word: the member spends exactly X on the last day before DATE, and the
next review is asked. Driven through /sale at the counter and the tier job ticked by the
scheduler's own entry on the frozen clock.

The tier counts the spend of a rolling 12 months, so sales also leave the window between the
notice and its date: a promise that forgets them cannot be kept."""

from __future__ import annotations

import re
from decimal import Decimal

from bot.bootstrap import App
from bot.core.clock import FrozenClock
from jobs.scheduler import JOBS, tick
from tests.domain.automation_support import bangkok, outbox_for
from tests.unit.sales_support import texts
from tests.unit.staff_support import ensure_branch, make_member, staff_chat

TIERS = [job for job in JOBS if job.id == "automations.tiers"]


async def _tier(app: App, member_id: int) -> str | None:
    async with app.uow() as uow:
        member = await uow.members.get(member_id)
        assert member is not None
        return member.tier


async def test_spending_what_the_downgrade_notice_asks_by_its_date_brings_the_tier_back(
    app: App, clock: FrozenClock
) -> None:
    await ensure_branch(app, "asoke")
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    clock.set(bangkok(2026, 2, 20, 10))
    ploy = await make_member(app, "Ploy", "0811111111", user_id="m1", locale="en")
    for moment, amount, receipt in (
        (bangkok(2026, 2, 20, 10), "1000", "R1"),
        (bangkok(2026, 3, 15, 10), "2000", "R2"),  # leaves the window on 15 March 2027
        (bangkok(2026, 4, 10, 10), "7000", "R3"),
    ):
        clock.set(moment)
        await owner.say(f"/sale 0811111111 {amount} receipt={receipt}")
    clock.set(bangkok(2026, 5, 1, 9, 35))
    await tick(app, TIERS)
    assert await _tier(app, ploy.id) == "gold"
    # the review of 1 March 2027: 9,000 in the last 12 months (R1 has left)
    clock.set(bangkok(2027, 3, 1, 9, 35))
    assert await tick(app, TIERS) == ["automations.tiers"]
    assert await _tier(app, ploy.id) == "silver"
    [notice] = await outbox_for(app, ploy.id, "tier:")
    found = re.search(r"Spend (.+?) more by (.+?) to get", texts(notice))
    assert found is not None, texts(notice)
    asked = Decimal(re.sub(r"[^0-9.]", "", found[1]))
    assert found[2] == "31 Mar 2027"
    # R2 leaves the window before the next review: 10,000 less R3's 7,000, not less 9,000
    assert asked == Decimal(3000)
    # Ploy does as told on 30 March: spends exactly what the notice asked
    clock.set(bangkok(2027, 3, 30, 10))
    await owner.say(f"/sale 0811111111 {asked} receipt=R4")
    clock.set(bangkok(2027, 4, 1, 9, 35))
    await tick(app, TIERS)
    assert await _tier(app, ploy.id) == "gold"
