"""Birthday automation: shop-time days, 29 February, /stop, and no double sends."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.bootstrap import App
from bot.core.clock import FrozenClock
from jobs.automations.birthday import run_birthday
from shop.campaigns.stats import compute_stats
from tests.chat import Chat
from tests.domain.automation_support import (
    bangkok,
    enrolments,
    outbox_for,
    run_days,
    set_automations,
)
from tests.unit.sales_support import texts
from tests.unit.staff_support import make_member, staff_chat

NO_HOLDOUT = {"birthday": {"holdout_pct": 0}}


async def test_a_29_february_birthday_is_greeted_on_28_february_once(
    app: App, clock: FrozenClock
) -> None:
    await set_automations(app, NO_HOLDOUT)
    leap = await make_member(app, "Leap", user_id="m1", birthday=date(1996, 2, 29))
    clock.set(bangkok(2027, 2, 25, 11))
    await run_days(app, clock, run_birthday, 8)  # 25 Feb .. 4 Mar 2027
    rows = await outbox_for(app, leap.id)
    assert len(rows) == 1
    assert rows[0].created_at == bangkok(2027, 2, 28, 11)
    assert "Leap" in texts(rows[0])


async def test_a_birthday_is_due_on_the_shop_day_not_the_utc_day(
    app: App, clock: FrozenClock
) -> None:
    await set_automations(app, {"birthday": {"holdout_pct": 0, "hour": 0}})
    ploy = await make_member(app, "Ploy", user_id="m1", birthday=date(1990, 3, 5))
    clock.set(bangkok(2026, 3, 4, 23, 50))
    await run_birthday(app)
    assert await outbox_for(app, ploy.id) == []
    clock.set(bangkok(2026, 3, 5, 0, 30))  # still 4 March in UTC (17:30)
    assert clock.now().astimezone(UTC).date() == date(2026, 3, 4)
    await run_birthday(app)
    clock.advance(timedelta(hours=12))
    await run_birthday(app)
    rows = await outbox_for(app, ploy.id)
    assert len(rows) == 1
    assert rows[0].created_at == bangkok(2026, 3, 5, 0, 30)


async def test_a_stopped_member_gets_no_birthday_promotion_but_still_a_receipt(
    app: App, clock: FrozenClock
) -> None:
    await set_automations(app, NO_HOLDOUT)
    clock.set(bangkok(2026, 3, 5, 9))
    ploy = await make_member(app, "Ploy", user_id="m1", birthday=date(1990, 3, 5))
    await Chat(app, user_id="m1").say("/stop")
    cashier = await staff_chat(app, "c1", "cashier", branch_code="asoke")
    clock.set(bangkok(2026, 3, 5, 11))
    counts = await run_birthday(app)
    assert counts.get("stopped") == 1
    await cashier.say(f"/sale {ploy.member_code} 250")
    assert await outbox_for(app, ploy.id) == []
    assert len(await outbox_for(app, ploy.id, "receipt:")) == 1


async def test_running_the_birthday_job_twice_queues_nobody_twice(
    app: App, clock: FrozenClock
) -> None:
    await set_automations(app, NO_HOLDOUT)
    members = [
        await make_member(
            app, f"M{i}", f"08123400{i:02d}", user_id=f"m{i}", birthday=date(1990, 3, 5)
        )
        for i in range(5)
    ]
    clock.set(bangkok(2026, 3, 5, 11))
    first = await run_birthday(app)
    second = await run_birthday(app)
    assert first == {"recipients": 5}
    assert second == {}
    for member in members:
        assert len(await outbox_for(app, member.id)) == 1


@pytest.mark.e2e
async def test_a_member_is_greeted_once_a_year_and_again_next_year(
    app: App, clock: FrozenClock
) -> None:
    await set_automations(app, NO_HOLDOUT)
    ploy = await make_member(app, "Ploy", user_id="m1", birthday=date(1990, 3, 5))
    clock.set(bangkok(2026, 3, 1, 11))
    await run_days(app, clock, run_birthday, 400)
    assert [key for key, _ in await enrolments(app, ploy.id, "automation:birthday")] == [
        "2026-03",
        "2027-03",
    ]


async def test_birthday_results_appear_in_campaign_stats(app: App, clock: FrozenClock) -> None:
    ploy = await make_member(app, "Ploy", user_id="m1", birthday=date(1990, 3, 5))
    await set_automations(app, NO_HOLDOUT)
    clock.set(bangkok(2026, 3, 5, 11))
    await run_birthday(app)
    [(_, row)] = await enrolments(app, ploy.id, "automation:birthday")
    async with app.uow() as uow:
        stats = await compute_stats(uow, row.campaign_id, clock.now())
    assert stats.recipients.members == 1


@pytest.mark.parametrize(
    ("days_before", "joined", "greeted"),
    [
        pytest.param(0, bangkok(2026, 3, 5, 15), True, id="joined-on-the-birthday-after-10"),
        pytest.param(0, bangkok(2026, 3, 5, 23, 59), True, id="joined-last-minute-of-it"),
        pytest.param(0, bangkok(2026, 3, 6, 0, 1), False, id="joined-the-day-after"),
        pytest.param(3, bangkok(2026, 3, 3, 12), True, id="after-the-greeting-day-before-it"),
        pytest.param(3, bangkok(2026, 3, 6, 8), False, id="after-the-birthday-days-before"),
    ],
)
async def test_the_catch_up_greets_a_member_who_joined_before_their_birthday_ended(
    app: App, clock: FrozenClock, days_before: int, joined: datetime, greeted: bool
) -> None:
    """The catch-up leaves out only a birthday that had ended (shop day) when the member
    joined: one who joins on their birthday, or between the greeting day and the birthday,
    is greeted at the next run."""
    await set_automations(app, {"birthday": {"holdout_pct": 0, "days_before": days_before}})
    clock.set(joined)
    ploy = await make_member(app, "Ploy", user_id="m1", birthday=date(1990, 3, 5))
    clock.advance(timedelta(minutes=30))
    await run_birthday(app)
    assert len(await outbox_for(app, ploy.id)) == (1 if greeted else 0)
