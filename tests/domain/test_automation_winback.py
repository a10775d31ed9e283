"""Win-back automation: lapse threshold, cooldown, at most two tries per lapse."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from bot.bootstrap import App
from bot.core.clock import FrozenClock
from jobs.automations.winback import run_winback
from shop.ledger import record_sale
from shop.loyalty import LoyaltyRules
from tests.domain.automation_support import bangkok, enrolments, run_days, set_automations
from tests.unit.staff_support import ensure_branch, make_member

KIND = "automation:winback"


async def _sell(app: App, member_id: int, receipt: str) -> None:
    async with app.uow() as uow:
        member = await uow.members.get(member_id)
        branch = await uow.branches.by_code("asoke")
        assert member is not None
        assert branch is not None
        await record_sale(
            uow,
            member=member,
            amount=Decimal("100"),
            branch=branch,
            receipt_no=receipt,
            staff=None,
            now=app.clock.now(),
            rules=LoyaltyRules(),
        )
        await uow.commit()


async def _lapsing_member(app: App, clock: FrozenClock) -> int:
    await set_automations(app, {"winback": {"holdout_pct": 0}})
    await ensure_branch(app, "asoke")
    clock.set(bangkok(2026, 1, 1, 11))
    member = await make_member(app, "Ploy", user_id="m1")
    await _sell(app, member.id, "R1")
    return member.id


async def test_a_lapsed_member_gets_two_tries_spaced_by_the_cooldown(
    app: App, clock: FrozenClock
) -> None:
    member_id = await _lapsing_member(app, clock)
    await run_days(app, clock, run_winback, 330)
    rows = await enrolments(app, member_id, KIND)
    assert len(rows) == 2  # the 2-try limit: nothing more in the rest of the year
    first, second = (row.enrolled_at for _, row in rows)
    assert first is not None
    assert second is not None
    assert first == bangkok(2026, 3, 2, 11)  # 60 days after the sale
    assert second - first == timedelta(days=90)  # the cooldown


async def test_a_member_who_visits_again_is_not_sent_a_win_back(
    app: App, clock: FrozenClock
) -> None:
    member_id = await _lapsing_member(app, clock)
    await run_days(app, clock, run_winback, 50)
    await _sell(app, member_id, "R2")
    await run_days(app, clock, run_winback, 50)
    assert await enrolments(app, member_id, KIND) == []


async def test_a_new_visit_ends_the_lapse_and_the_tries_start_again(
    app: App, clock: FrozenClock
) -> None:
    member_id = await _lapsing_member(app, clock)
    await run_days(app, clock, run_winback, 200)  # two tries used up
    await _sell(app, member_id, "R2")
    await run_days(app, clock, run_winback, 61)
    rows = await enrolments(app, member_id, KIND)
    assert len(rows) == 3
    assert rows[-1][1].enrolled_at == bangkok(2026, 7, 20, 11) + timedelta(days=60)


async def test_running_win_back_twice_a_day_enrols_once(app: App, clock: FrozenClock) -> None:
    member_id = await _lapsing_member(app, clock)
    clock.advance(timedelta(days=61))
    assert (await run_winback(app)).get("recipients") == 1
    assert (await run_winback(app)).get("recipients") is None
    assert len(await enrolments(app, member_id, KIND)) == 1
