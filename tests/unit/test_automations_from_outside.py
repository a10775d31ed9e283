"""Automations, quiet hours and campaigns where time and automatic messages meet real people.

Driven from outside: jobs run as the scheduler runs them (``tick`` with the frozen clock, or the
job function a ``chatcrm jobs run`` calls), people act in chat, the dispatcher delivers to the
recording fakes. What is asserted is what a member's phone would show.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select

from bot.bootstrap import App
from bot.core.clock import FrozenClock
from bot.core.messages import Channel
from jobs.automations.birthday import run_birthday
from jobs.automations.winback import run_winback
from jobs.dispatcher import OutboxDispatcher
from jobs.scheduler import JOBS, tick
from storage.models import Campaign
from storage.raw_session import session_of
from tests.domain.automation_support import bangkok, outbox_for, set_automations
from tests.domain.campaign_support import make_campaign
from tests.unit.dispatcher_support import FakeTelegram
from tests.unit.inbox_support import add_sale
from tests.unit.staff_support import ensure_branches, make_member, member_chat, staff_chat

NO_HOLDOUT = {"birthday": {"holdout_pct": 0}, "winback": {"holdout_pct": 0}}
BIRTHDAY_JOBS = [job for job in JOBS if job.id == "automations.birthday"]


def _dispatcher(app: App, telegram: FakeTelegram) -> OutboxDispatcher:
    return OutboxDispatcher(app.uow, app.clock, {Channel.TELEGRAM: telegram}, concurrency=1)


def pushed(telegram: FakeTelegram, user_id: str) -> list[str]:
    return [text for push in telegram.pushes if push.user_id == user_id for text in push.texts]


async def _campaigns(app: App, kind: str) -> int:
    async with app.uow() as uow:
        query = select(func.count()).select_from(Campaign).where(Campaign.kind == kind)
        return int((await session_of(uow).execute(query)).scalar_one())


# --- birthdays --------------------------------------------------------------------------------


async def test_29_february_is_greeted_once_in_2027_when_the_scheduler_ticks_hourly(
    app: App, clock: FrozenClock
) -> None:
    await set_automations(app, NO_HOLDOUT)
    leap = await make_member(app, "Leap", user_id="m1", birthday=date(2000, 2, 29))
    clock.set(bangkok(2027, 2, 26, 0, 5))
    for _ in range(24 * 4):  # 26 Feb .. 1 Mar 2027, one tick an hour
        await tick(app, BIRTHDAY_JOBS)
        clock.advance(timedelta(hours=1))
    rows = await outbox_for(app, leap.id)
    assert len(rows) == 1
    assert rows[0].created_at.astimezone(UTC) == bangkok(2027, 2, 28, 10, 5).astimezone(UTC)


async def test_29_february_is_not_greeted_on_28_february_in_a_leap_year(
    app: App, clock: FrozenClock
) -> None:
    await set_automations(app, NO_HOLDOUT)
    leap = await make_member(app, "Leap", user_id="m1", birthday=date(2000, 2, 29))
    clock.set(bangkok(2028, 2, 28, 11))
    await run_birthday(app)
    assert await outbox_for(app, leap.id) == []
    clock.set(bangkok(2028, 2, 29, 11))
    await run_birthday(app)
    assert len(await outbox_for(app, leap.id)) == 1


async def test_a_birthday_at_bangkok_midnight_reaches_the_phone_that_morning_not_at_night(
    app: App, clock: FrozenClock
) -> None:
    # the owner wants greetings from 00:00; the quiet hours (21:00-09:00) still hold them back
    await set_automations(app, {"birthday": {"holdout_pct": 0, "hour": 0}})
    await make_member(app, "Ploy", user_id="m1", birthday=date(1990, 3, 5))
    telegram = FakeTelegram()
    clock.set(bangkok(2026, 3, 5, 0, 10))  # 4 March 17:10 UTC
    await tick(app, BIRTHDAY_JOBS)
    await _dispatcher(app, telegram).drain_once()
    assert pushed(telegram, "m1") == []
    clock.set(bangkok(2026, 3, 5, 9, 5))
    await _dispatcher(app, telegram).drain_once()
    assert len(pushed(telegram, "m1")) == 1


async def test_stop_then_start_again_does_not_quietly_resume_birthday_promotions(
    app: App, clock: FrozenClock
) -> None:
    await set_automations(app, NO_HOLDOUT)
    chat, ploy = await member_chat(app, "Ploy", user_id="m1", birthday=date(1990, 3, 5))
    await chat.say("/stop")
    await chat.say("/start")  # opening the chat again is no new consent
    clock.set(bangkok(2026, 3, 5, 11))
    counts = await run_birthday(app)
    assert counts.get("stopped") == 1
    assert await outbox_for(app, ploy.id) == []


async def test_stop_then_resume_brings_the_birthday_greeting_back(
    app: App, clock: FrozenClock
) -> None:
    await set_automations(app, NO_HOLDOUT)
    chat, ploy = await member_chat(app, "Ploy", user_id="m1", birthday=date(1990, 3, 5))
    await chat.say("/stop")
    await chat.say("/resume")
    clock.set(bangkok(2026, 3, 5, 11))
    await run_birthday(app)
    assert len(await outbox_for(app, ploy.id)) == 1


async def test_a_birthday_queued_then_deleteme_before_the_morning_never_reaches_the_member(
    app: App, clock: FrozenClock
) -> None:
    await set_automations(app, {"birthday": {"holdout_pct": 0, "hour": 0}})
    chat, _ = await member_chat(app, "Ploy", user_id="m1", birthday=date(1990, 3, 5))
    clock.set(bangkok(2026, 3, 5, 0, 10))
    await run_birthday(app)
    await _dispatcher(app, FakeTelegram()).drain_once()  # deferred to 09:00
    await chat.say("/deleteme")
    await chat.press("del:yes")
    telegram = FakeTelegram()
    clock.set(bangkok(2026, 3, 5, 9, 5))
    await _dispatcher(app, telegram).drain_once()
    assert pushed(telegram, "m1") == []


async def test_two_birthday_runs_at_once_greet_each_member_once(
    app: App, clock: FrozenClock
) -> None:
    await set_automations(app, NO_HOLDOUT)
    members = [
        await make_member(
            app, f"M{i}", f"08123400{i:02d}", user_id=f"m{i}", birthday=date(1990, 3, 5)
        )
        for i in range(6)
    ]
    clock.set(bangkok(2026, 3, 5, 11))
    results = await asyncio.gather(
        run_birthday(app), run_birthday(app), run_birthday(app), return_exceptions=True
    )
    assert [r for r in results if isinstance(r, BaseException)] == []
    for member in members:
        assert len(await outbox_for(app, member.id)) == 1
    assert await _campaigns(app, "automation:birthday") == 1


async def test_two_scheduler_ticks_at_once_run_the_birthday_period_once(
    app: App, clock: FrozenClock
) -> None:
    await set_automations(app, NO_HOLDOUT)
    ploy = await make_member(app, "Ploy", user_id="m1", birthday=date(1990, 3, 5))
    clock.set(bangkok(2026, 3, 5, 11))
    await asyncio.gather(tick(app, BIRTHDAY_JOBS), tick(app, BIRTHDAY_JOBS))
    assert len(await outbox_for(app, ploy.id)) == 1


# --- win-back ---------------------------------------------------------------------------------


async def test_a_member_who_bought_this_morning_gets_no_winback_today(
    app: App, clock: FrozenClock
) -> None:
    await set_automations(app, NO_HOLDOUT)
    await ensure_branches(app, ("asoke",))
    cashier = await staff_chat(app, "c1", "cashier", "asoke")
    ploy = await make_member(app, "Ploy", user_id="m1")
    await add_sale(app, ploy.id, "asoke", bangkok(2026, 1, 2, 14))
    clock.set(bangkok(2026, 3, 10, 9, 30))
    await cashier.say(f"/sale {ploy.member_code} 120 receipt=R2")
    clock.set(bangkok(2026, 3, 10, 10))
    await run_winback(app)
    assert await outbox_for(app, ploy.id) == []


async def test_a_winback_held_overnight_is_not_sent_after_the_member_bought_in_the_morning(
    app: App, clock: FrozenClock
) -> None:
    await set_automations(app, NO_HOLDOUT)
    await ensure_branches(app, ("asoke",))
    cashier = await staff_chat(app, "c1", "cashier", "asoke")
    ploy = await make_member(app, "Ploy", user_id="m1")
    await add_sale(app, ploy.id, "asoke", bangkok(2026, 1, 2, 14))
    clock.set(bangkok(2026, 3, 9, 22, 30))  # e.g. `chatcrm jobs run automations.winback`
    counts = await run_winback(app)
    assert counts.get("recipients") == 1
    await _dispatcher(app, FakeTelegram()).drain_once()  # held until 09:00
    clock.set(bangkok(2026, 3, 10, 8, 15))  # an early customer: "we miss you" is now wrong
    await cashier.say(f"/sale {ploy.member_code} 120 receipt=R2")
    telegram = FakeTelegram()
    clock.set(bangkok(2026, 3, 10, 9, 5))
    await _dispatcher(app, telegram).drain_once()
    assert [text for text in pushed(telegram, "m1") if "R2" not in text] == []


async def test_two_winback_runs_at_once_enrol_each_lapsed_member_once(
    app: App, clock: FrozenClock
) -> None:
    await set_automations(app, NO_HOLDOUT)
    await ensure_branches(app, ("asoke",))
    members = [
        await make_member(app, f"M{i}", f"08123400{i:02d}", user_id=f"m{i}") for i in range(5)
    ]
    for member in members:
        await add_sale(app, member.id, "asoke", bangkok(2026, 1, 2, 14))
    clock.set(bangkok(2026, 3, 10, 10))
    results = await asyncio.gather(run_winback(app), run_winback(app), return_exceptions=True)
    assert [r for r in results if isinstance(r, BaseException)] == []
    for member in members:
        assert len(await outbox_for(app, member.id)) == 1
    assert await _campaigns(app, "automation:winback") == 1


# --- quiet hours and campaigns ----------------------------------------------------------------


async def test_a_campaign_sent_at_2159_and_drained_at_2201_waits_for_the_morning(
    app: App, clock: FrozenClock
) -> None:
    manager = await staff_chat(app, "boss", "manager")
    await make_member(app, "Ploy", "0811111111", user_id="m1")
    campaign = await make_campaign(app, holdout_pct=0)
    clock.set(bangkok(2026, 3, 3, 21, 59))
    await manager.say(f"/campaign send {campaign.id}")
    await manager.press(f"cmpa:send:{campaign.id}")
    telegram = FakeTelegram()
    clock.set(bangkok(2026, 3, 3, 22, 1))
    await _dispatcher(app, telegram).drain_once()
    assert pushed(telegram, "m1") == []
    clock.set(bangkok(2026, 3, 4, 9, 1))
    await _dispatcher(app, telegram).drain_once()
    assert len(pushed(telegram, "m1")) == 1


async def test_a_member_who_joins_while_a_campaign_is_sending_is_not_added_to_it(
    app: App, clock: FrozenClock
) -> None:
    manager = await staff_chat(app, "boss", "manager")
    await make_member(app, "Ploy", "0811111111", user_id="m1")
    campaign = await make_campaign(app, holdout_pct=0)
    clock.set(bangkok(2026, 3, 3, 11))
    await manager.say(f"/campaign send {campaign.id}")
    await manager.press(f"cmpa:send:{campaign.id}")
    await make_member(app, "Nok", "0822222222", user_id="m2")
    telegram = FakeTelegram()
    await _dispatcher(app, telegram).drain_once()
    assert len(pushed(telegram, "m1")) == 1
    assert pushed(telegram, "m2") == []


async def test_stop_then_resume_during_a_campaign_does_not_bring_the_withdrawn_message_back(
    app: App, clock: FrozenClock
) -> None:
    manager = await staff_chat(app, "boss", "manager")
    chat, _ = await member_chat(app, "Ploy", "0811111111", user_id="m1")
    campaign = await make_campaign(app, holdout_pct=0)
    clock.set(bangkok(2026, 3, 3, 11))
    await manager.say(f"/campaign send {campaign.id}")
    await manager.press(f"cmpa:send:{campaign.id}")
    await chat.say("/stop")
    await chat.say("/resume")
    telegram = FakeTelegram()
    await _dispatcher(app, telegram).drain_once()
    assert pushed(telegram, "m1") == []


async def test_a_campaign_drained_at_2059_stops_sending_promotions_once_21_00_has_passed(
    app: App, clock: FrozenClock
) -> None:
    manager = await staff_chat(app, "boss", "manager")
    for i in range(6):
        await make_member(app, f"M{i}", f"08123400{i:02d}", user_id=f"m{i}")
    campaign = await make_campaign(app, holdout_pct=0)
    clock.set(bangkok(2026, 3, 3, 20, 58))
    await manager.say(f"/campaign send {campaign.id}")
    await manager.press(f"cmpa:send:{campaign.id}")
    sent_at: list[datetime] = []

    async def slow_platform() -> None:  # each request takes 20 s (a busy platform, 429s)
        sent_at.append(clock.now())
        clock.advance(timedelta(seconds=20))

    telegram = FakeTelegram(on_push=slow_platform)
    clock.set(bangkok(2026, 3, 3, 20, 59) + timedelta(seconds=30))
    await _dispatcher(app, telegram).drain_once()
    assert sent_at, "nothing was sent before the quiet hours"
    quiet_from = bangkok(2026, 3, 3, 21, 0)
    assert [moment for moment in sent_at if moment >= quiet_from] == []


async def test_a_lapsed_member_who_resumes_is_won_back_at_the_next_months_run(
    app: App, clock: FrozenClock
) -> None:
    await set_automations(app, NO_HOLDOUT)
    await ensure_branches(app, ("asoke",))
    chat, ploy = await member_chat(app, "Ploy", "0811111111", user_id="m1")
    await add_sale(app, ploy.id, "asoke", bangkok(2026, 1, 2, 14))
    await chat.say("/stop")
    clock.set(bangkok(2026, 3, 10, 10))
    assert (await run_winback(app)).get("stopped") == 1
    clock.set(bangkok(2026, 3, 20, 12))
    await chat.say("/resume")
    clock.set(bangkok(2026, 4, 10, 10))
    counts = await run_winback(app)
    assert counts.get("recipients") == 1
    assert len(await outbox_for(app, ploy.id)) == 1
