"""Days of the real scheduler: every periodic job ticked each half hour on the frozen clock, the
dispatcher draining after each tick, and what reached each member's phone, and when."""

from __future__ import annotations

from datetime import date

from bot.bootstrap import App
from bot.core.clock import FrozenClock
from jobs.scheduler import JOBS, tick
from tests.domain.automation_support import bangkok, outbox_for, set_automations
from tests.unit.inbox_support import add_sale
from tests.unit.scheduler_days_support import phones_until
from tests.unit.staff_support import ensure_branches, make_member


async def test_birthdays_on_two_days_each_reach_their_member_once_in_daytime_on_the_day(
    app: App, clock: FrozenClock
) -> None:
    await set_automations(app, {"birthday": {"holdout_pct": 0}})
    await make_member(app, "Ploy", "0811111111", user_id="m1", birthday=date(1990, 3, 5))
    await make_member(app, "Nok", "0822222222", user_id="m2", birthday=date(1985, 3, 6))
    clock.set(bangkok(2026, 3, 4, 0, 0))
    received = await phones_until(app, clock, bangkok(2026, 3, 7, 23, 45))
    assert [(m.day, 9 <= m.hour < 21) for m in received.get("m1", [])] == [(5, True)]
    assert [(m.day, 9 <= m.hour < 21) for m in received.get("m2", [])] == [(6, True)]


async def test_a_lapsed_member_hears_win_back_once_over_several_days_and_never_at_night(
    app: App, clock: FrozenClock
) -> None:
    await set_automations(app, {"winback": {"holdout_pct": 0}})
    await ensure_branches(app, ("asoke",))
    ploy = await make_member(app, "Ploy", "0811111111", user_id="m1", birthday=None)
    await add_sale(app, ploy.id, "asoke", bangkok(2026, 1, 2, 14))
    clock.set(bangkok(2026, 3, 9, 20, 0))
    received = await phones_until(app, clock, bangkok(2026, 3, 12, 12, 0))
    moments = received.get("m1", [])
    assert len(moments) == 1
    assert all(9 <= moment.hour < 21 for moment in moments)


async def test_an_expiry_reminder_missed_at_9_00_is_sent_when_the_process_is_back_overnight(
    app: App, clock: FrozenClock
) -> None:
    clock.set(bangkok(2026, 1, 10, 11))
    ploy = await make_member(app, "Ploy", "0811111111", user_id="m1")
    async with app.uow() as uow:  # 120 points earned today expire on 10 January 2027
        await uow.points.append(ploy.id, 120, "adjust", clock.now())
        await uow.commit()
    expiry = [job for job in JOBS if job.id == "automations.expiry"]
    clock.set(bangkok(2026, 12, 10, 9, 5))
    assert await tick(app, expiry) == ["automations.expiry"]
    # the server is down from 10 December evening until 02:30 on 12 December: the scheduler
    # catches up the missed 11 December run then, as it promises
    clock.set(bangkok(2026, 12, 12, 2, 30))
    assert await tick(app, expiry) == ["automations.expiry"]
    clock.set(bangkok(2026, 12, 12, 9, 5))
    await tick(app, expiry)
    rows = await outbox_for(app, ploy.id, "autoexp:")
    assert [row.dedupe_key for row in rows] == [f"autoexp:{ploy.id}:2027-01-10"]
