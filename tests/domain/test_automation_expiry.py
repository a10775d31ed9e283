"""Points expiry automation: FIFO, never negative, one reminder per expiry date."""

from __future__ import annotations

from datetime import timedelta

from bot.bootstrap import App
from bot.core.clock import FrozenClock
from jobs.automations.expiry import run_expiry
from shop.loyalty import add_months
from tests.domain.automation_support import bangkok, outbox_for, run_days
from tests.unit.sales_support import balance, ledger, texts
from tests.unit.staff_support import make_member


async def _credit(app: App, member_id: int, points: int) -> None:
    async with app.uow() as uow:
        await uow.points.append(member_id, points, "adjust", app.clock.now())
        await uow.commit()


async def test_expiry_takes_the_oldest_points_first(app: App, clock: FrozenClock) -> None:
    clock.set(bangkok(2026, 1, 10, 11))
    start = clock.now()
    member = await make_member(app, "Ploy", user_id="m1")
    await _credit(app, member.id, 100)
    clock.advance(timedelta(days=200))
    await _credit(app, member.id, 50)
    await _credit(app, member.id, -80)  # spends 80 of the oldest 100
    clock.set(add_months(start, 12) + timedelta(hours=1))
    assert (await run_expiry(app))["expired_points"] == 20
    assert await balance(app, member.id) == 50


async def test_expiry_never_makes_a_balance_negative(app: App, clock: FrozenClock) -> None:
    clock.set(bangkok(2026, 1, 10, 11))
    start = clock.now()
    member = await make_member(app, "Ploy", user_id="m1")
    await _credit(app, member.id, 100)
    await _credit(app, member.id, -100)
    clock.set(add_months(start, 12) + timedelta(hours=1))
    await run_days(app, clock, run_expiry, 3)
    assert await balance(app, member.id) == 0
    assert [reason for _, reason in await ledger(app, member.id)].count("expire") == 0


async def test_expiry_runs_once_a_day(app: App, clock: FrozenClock) -> None:
    clock.set(bangkok(2026, 1, 10, 11))
    start = clock.now()
    member = await make_member(app, "Ploy", user_id="m1")
    await _credit(app, member.id, 100)
    clock.set(add_months(start, 12) + timedelta(hours=1))
    await run_expiry(app)
    await run_expiry(app)
    assert [e for e in await ledger(app, member.id) if e[1] == "expire"] == [(-100, "expire")]


async def test_a_reminder_is_sent_once_per_expiry_date_with_amount_and_thai_date(
    app: App, clock: FrozenClock
) -> None:
    clock.set(bangkok(2026, 1, 10, 11))
    member = await make_member(app, "Ploy", user_id="m1", marketing=False)
    await _credit(app, member.id, 120)
    clock.set(bangkok(2026, 12, 1, 9))
    await run_days(app, clock, run_expiry, 20)  # 1..20 Dec: the 30-day mark is 11 Dec
    clock.set(bangkok(2026, 12, 11, 20))
    await run_expiry(app)
    rows = await outbox_for(app, member.id, "autoexp:")
    assert [row.dedupe_key for row in rows] == [f"autoexp:{member.id}:2027-01-10"]
    assert "120" in texts(rows[0])
    assert "2570" in texts(rows[0])
    assert rows[0].promotional is False


async def test_reminders_missed_while_the_process_was_down_three_days_are_all_sent(
    app: App, clock: FrozenClock
) -> None:
    member = await make_member(app, "Ploy", user_id="m1")
    for day in (10, 11, 12):  # points expiring on 10, 11 and 12 January 2027
        clock.set(bangkok(2026, 1, day, 11))
        await _credit(app, member.id, 10 * day)
    clock.set(bangkok(2026, 12, 9, 9, 5))
    await run_expiry(app)  # the 8 January reminders; then down from 9 December evening
    assert await outbox_for(app, member.id, "autoexp:") == []
    clock.set(bangkok(2026, 12, 13, 11))
    assert (await run_expiry(app))["reminded"] == 3
    rows = await outbox_for(app, member.id, "autoexp:")
    assert [row.dedupe_key for row in rows] == [
        f"autoexp:{member.id}:2027-01-{day}" for day in (10, 11, 12)
    ]
    assert ["100" in texts(rows[0]), "110" in texts(rows[1]), "120" in texts(rows[2])] == [True] * 3
    clock.set(bangkok(2026, 12, 14, 9, 5))
    assert (await run_expiry(app))["reminded"] == 0
