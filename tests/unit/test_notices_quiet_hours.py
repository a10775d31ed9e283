"""Automated notices (a tier downgrade, points about to expire) caught up by a process back at
night wait out the quiet hours as promotions do: held until the morning, not dropped. Replies
and receipts are not held."""

from __future__ import annotations

from datetime import timedelta

from bot.bootstrap import App
from bot.core.clock import FrozenClock
from bot.core.messages import Channel
from jobs.automations.expiry import run_expiry
from jobs.automations.tiers import run_tier_review
from jobs.dispatcher import OutboxDispatcher
from shop.loyalty import DEFAULT_TIERS
from tests.domain.automation_support import bangkok, outbox_for
from tests.unit.dispatcher_support import FakeTelegram
from tests.unit.staff_support import ensure_branches, make_member, staff_chat


async def _drain(app: App) -> FakeTelegram:
    telegram = FakeTelegram()
    await OutboxDispatcher(app.uow, app.clock, {Channel.TELEGRAM: telegram}).drain_once()
    return telegram


async def test_a_tier_downgrade_notice_caught_up_at_night_waits_for_the_morning(
    app: App, clock: FrozenClock
) -> None:
    clock.set(bangkok(2026, 3, 1, 23))  # back after downtime, inside the quiet hours
    member = await make_member(app, "Ploy", user_id="m1")
    async with app.uow() as uow:
        stored = await uow.members.get(member.id)
        assert stored is not None
        stored.tier = DEFAULT_TIERS[-1].name
        stored.tier_since = clock.now() - timedelta(days=400)
        await uow.commit()
    assert (await run_tier_review(app))["downgraded"] == 1
    assert (await _drain(app)).pushes == []
    [notice] = await outbox_for(app, member.id, "tier:")
    assert notice.status == "pending"  # held, not dropped
    clock.set(bangkok(2026, 3, 2, 9, 5))
    assert len((await _drain(app)).pushes) == 1


async def test_a_points_expiry_reminder_caught_up_at_night_waits_for_the_morning(
    app: App, clock: FrozenClock
) -> None:
    clock.set(bangkok(2026, 1, 10, 11))
    member = await make_member(app, "Ploy", user_id="m1")
    async with app.uow() as uow:
        await uow.points.append(member.id, 120, "adjust", app.clock.now())
        await uow.commit()
    clock.set(bangkok(2026, 12, 11, 23))
    assert (await run_expiry(app))["reminded"] == 1
    assert (await _drain(app)).pushes == []
    clock.set(bangkok(2026, 12, 12, 9, 5))
    assert len((await _drain(app)).pushes) == 1


async def test_a_receipt_at_night_is_not_held(app: App, clock: FrozenClock) -> None:
    clock.set(bangkok(2026, 3, 1, 22))
    await ensure_branches(app, ("asoke",))
    cashier = await staff_chat(app, "c1", "cashier", "asoke")
    member = await make_member(app, "Ploy", user_id="m1")
    await cashier.say(f"/sale {member.member_code} 120 receipt=R1")
    pushes = (await _drain(app)).pushes
    assert any("R1" in text for push in pushes for text in push.texts)
