"""A win-back waiting in the outbox when the member comes back: a visit withdraws it, a voided
visit does not, other promotions are not touched, and a win-back withdrawn or never sent does
not count as a try."""

from __future__ import annotations

from bot.bootstrap import App
from bot.core.clock import FrozenClock
from bot.core.messages import Channel
from jobs.automations.winback import NAME, run_winback
from jobs.dispatcher import OutboxDispatcher
from shop.automations import kind_of
from storage.repositories.withdrawals import UNTIL_NEXT_SALE
from tests.domain.automation_support import bangkok, outbox_for, set_automations
from tests.domain.campaign_support import make_campaign
from tests.unit.dispatcher_support import FakeTelegram
from tests.unit.inbox_support import add_sale
from tests.unit.staff_support import ensure_branches, make_member, staff_chat


async def _drain(app: App) -> list[str]:
    """Drain the outbox once; the users pushed to."""
    telegram = FakeTelegram()
    await OutboxDispatcher(app.uow, app.clock, {Channel.TELEGRAM: telegram}).drain_once()
    return [push.user_id for push in telegram.pushes]


async def _queued_overnight(app: App, clock: FrozenClock) -> int:
    """A lapsed member enrolled in win-back at 22:30 on 9 March (held until 09:00)."""
    await set_automations(app, {"winback": {"holdout_pct": 0}})
    await ensure_branches(app, ("asoke",))
    ploy = await make_member(app, "Ploy", user_id="m1")
    await add_sale(app, ploy.id, "asoke", bangkok(2026, 1, 2, 14))
    clock.set(bangkok(2026, 3, 9, 22, 30))
    assert (await run_winback(app)).get("recipients") == 1
    assert await _drain(app) == []
    return ploy.id


def test_the_win_back_automation_is_withdrawn_by_a_visit() -> None:
    assert kind_of(NAME) in UNTIL_NEXT_SALE


async def test_a_voided_morning_sale_leaves_the_waiting_win_back_to_go(
    app: App, clock: FrozenClock
) -> None:
    ploy_id = await _queued_overnight(app, clock)
    await add_sale(app, ploy_id, "asoke", bangkok(2026, 3, 10, 8, 15), voided=True)
    clock.set(bangkok(2026, 3, 10, 9, 5))
    assert await _drain(app) == ["m1"]


async def test_a_campaign_held_overnight_still_goes_after_the_member_bought(
    app: App, clock: FrozenClock
) -> None:
    manager = await staff_chat(app, "boss", "manager")
    ploy = await make_member(app, "Ploy", "0811111111", user_id="m1")
    campaign = await make_campaign(app, holdout_pct=0)
    clock.set(bangkok(2026, 3, 9, 22, 30))
    await manager.say(f"/campaign send {campaign.id}")
    await manager.press(f"cmpa:send:{campaign.id}")
    assert await _drain(app) == []
    await add_sale(app, ploy.id, "asoke", bangkok(2026, 3, 10, 8, 15))
    clock.set(bangkok(2026, 3, 10, 9, 5))
    assert await _drain(app) == ["m1"]


async def test_a_win_back_withdrawn_by_a_visit_is_no_try_when_the_member_lapses_again(
    app: App, clock: FrozenClock
) -> None:
    ploy_id = await _queued_overnight(app, clock)
    await add_sale(app, ploy_id, "asoke", bangkok(2026, 3, 10, 8, 15))
    clock.set(bangkok(2026, 3, 10, 9, 5))
    assert await _drain(app) == []
    # lapsed again 60 days after that visit: well within 90 days of the withdrawn enrolment
    clock.set(bangkok(2026, 5, 10, 10))
    assert (await run_winback(app)).get("recipients") == 1
    rows = await outbox_for(app, ploy_id)
    assert [row.status for row in rows] == ["cancelled", "pending"]
