"""Campaigns and time, from outside: a scheduled start as the scheduler makes it, and offers whose
last day has passed by the time the campaign goes out (the manager's /campaign send, or the
start job catching up after the server was down)."""

from __future__ import annotations

from bot.bootstrap import App
from bot.core.clock import FrozenClock
from jobs.scheduler import JOBS, tick
from tests.domain.automation_support import bangkok
from tests.domain.campaign_support import make_campaign
from tests.unit.staff_support import make_member, outbox_rows, staff_chat

START_DUE = [job for job in JOBS if job.id == "campaigns.start_due"]
#: 20% off, last day Tuesday 3 March 2026
ENDS_3_MARCH = {"kind": "percent", "value": "20", "valid_until": "2026-03-03"}


async def test_a_scheduled_campaign_starts_at_its_minute_not_before(
    app: App, clock: FrozenClock
) -> None:
    await make_member(app, "Ploy", "0811111111", user_id="m1")
    campaign = await make_campaign(
        app, holdout_pct=0, status="scheduled", scheduled_at=bangkok(2026, 3, 4, 10)
    )
    clock.set(bangkok(2026, 3, 4, 9, 59))
    await tick(app, START_DUE)
    assert await outbox_rows(app, f"cmp:{campaign.id}:") == []
    clock.set(bangkok(2026, 3, 4, 10, 0))
    await tick(app, START_DUE)
    assert len(await outbox_rows(app, f"cmp:{campaign.id}:")) == 1


async def test_a_scheduled_campaign_whose_offer_ended_while_the_server_was_down_is_not_sent(
    app: App, clock: FrozenClock
) -> None:
    await make_member(app, "Ploy", "0811111111", user_id="m1")
    clock.set(bangkok(2026, 3, 1, 12))
    campaign = await make_campaign(
        app,
        holdout_pct=0,
        offer=ENDS_3_MARCH,
        status="scheduled",
        scheduled_at=bangkok(2026, 3, 3, 10),
    )
    clock.set(bangkok(2026, 3, 5, 11))  # back two days later
    await tick(app, START_DUE)
    assert await outbox_rows(app, f"cmp:{campaign.id}:") == []


async def test_sending_a_draft_whose_offer_ended_is_refused(app: App, clock: FrozenClock) -> None:
    manager = await staff_chat(app, "boss", "manager")
    await make_member(app, "Ploy", "0811111111", user_id="m1")
    clock.set(bangkok(2026, 3, 1, 12))
    campaign = await make_campaign(app, holdout_pct=0, offer=ENDS_3_MARCH)
    clock.set(bangkok(2026, 3, 5, 11))
    await manager.say(f"/campaign send {campaign.id}")
    await manager.press(f"cmpa:send:{campaign.id}")
    assert await outbox_rows(app, f"cmp:{campaign.id}:") == []
