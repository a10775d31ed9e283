"""Birthdays from outside: the late greeting after a process was down, and two server processes
running the birthday job at once (each with its own engine, as two ``chatcrm serve`` would)."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.bootstrap import App, bootstrap
from bot.config import Settings
from bot.core.clock import FrozenClock
from bot.core.messages import Channel
from jobs.automations.birthday import run_birthday
from jobs.dispatcher import OutboxDispatcher
from jobs.scheduler import JOBS, tick
from storage.models import Campaign, CampaignMember, Coupon
from storage.raw_session import session_of
from tests.chat import Chat
from tests.conftest import make_test_engine
from tests.domain.automation_support import bangkok, outbox_for, set_automations
from tests.unit.dispatcher_support import FakeTelegram
from tests.unit.staff_support import make_member

BIRTHDAY_JOBS = [job for job in JOBS if job.id == "automations.birthday"]


async def _birthday_campaign_id(app: App) -> int:
    async with app.uow() as uow:
        query = select(Campaign.id).where(Campaign.kind == "automation:birthday")
        return int((await session_of(uow).execute(query)).scalar_one())


async def _coupons(app: App, member_id: int) -> list[Coupon]:
    async with app.uow() as uow:
        query = select(Coupon).where(Coupon.member_id == member_id)
        return list((await session_of(uow).execute(query)).scalars().all())


async def test_a_late_birthday_greeting_after_the_month_end_still_gives_a_usable_coupon(
    app: App, clock: FrozenClock
) -> None:
    await set_automations(app, {"birthday": {"holdout_pct": 0}})
    ploy = await make_member(app, "Ploy", user_id="m1", birthday=date(1990, 3, 31))
    # the server was down on 31 March; it is back on 1 April and catches up, as documented
    clock.set(bangkok(2026, 4, 1, 11))
    await tick(app, BIRTHDAY_JOBS)
    telegram = FakeTelegram()
    await OutboxDispatcher(app.uow, app.clock, {Channel.TELEGRAM: telegram}).drain_once()
    assert len(telegram.pushes) == 1  # "happy birthday, here is your gift"
    campaign_id = await _birthday_campaign_id(app)
    await Chat(app, user_id="m1").press(f"cmp:{campaign_id}")
    coupons = await _coupons(app, ploy.id)
    assert len(coupons) == 1
    assert coupons[0].expires_at > clock.now()


async def test_a_31_december_birthday_greeted_late_in_january_is_greeted_again_next_year(
    app: App, clock: FrozenClock
) -> None:
    await set_automations(app, {"birthday": {"holdout_pct": 0}})
    ploy = await make_member(app, "Ploy", user_id="m1", birthday=date(1990, 12, 31))
    clock.set(bangkok(2027, 1, 2, 9, 30))  # down over the new year, back before the hour
    await tick(app, BIRTHDAY_JOBS)
    await Chat(app, user_id="m1").press(f"cmp:{await _birthday_campaign_id(app)}")
    coupons = await _coupons(app, ploy.id)
    assert [coupon.expires_at for coupon in coupons] == [bangkok(2027, 2, 1, 0)]
    for day in (date(2027, 12, 30), date(2027, 12, 31), date(2028, 1, 1)):
        clock.set(bangkok(day.year, day.month, day.day, 11))
        await run_birthday(app)
    assert len(await outbox_for(app, ploy.id)) == 2


async def test_a_birthday_missed_within_its_month_keeps_the_birthday_months_coupon(
    app: App, clock: FrozenClock
) -> None:
    await set_automations(app, {"birthday": {"holdout_pct": 0}})
    await make_member(app, "Ploy", user_id="m1", birthday=date(1990, 3, 28))
    clock.set(bangkok(2026, 3, 30, 11))
    await run_birthday(app)
    async with app.uow() as uow:
        query = select(Campaign.period_key, Campaign.offer)
        rows = (await session_of(uow).execute(query)).all()
    assert [(key, offer["valid_until"]) for key, offer in rows] == [("2026-03", "2026-03-31")]


@pytest.fixture
async def second_process(
    engine: AsyncEngine, settings: Settings, clock: FrozenClock
) -> tuple[App, AsyncEngine]:
    other = make_test_engine(engine.url.render_as_string(hide_password=False))
    return await bootstrap(settings=settings, clock=clock, engine=other, migrate=False), other


async def test_two_processes_ticking_the_birthday_job_at_once_greet_each_member_once(
    app: App, clock: FrozenClock, second_process: tuple[App, AsyncEngine]
) -> None:
    other_app, other_engine = second_process
    try:
        await set_automations(app, {"birthday": {"holdout_pct": 0}})
        members = [
            await make_member(
                app, f"M{i}", f"08123400{i:02d}", user_id=f"m{i}", birthday=date(1990, 3, 5)
            )
            for i in range(8)
        ]
        clock.set(bangkok(2026, 3, 5, 11))
        results = await asyncio.gather(
            tick(app, BIRTHDAY_JOBS), tick(other_app, BIRTHDAY_JOBS), return_exceptions=True
        )
        assert [r for r in results if isinstance(r, BaseException)] == []
        assert sorted(len(r) for r in results if isinstance(r, list)) == [0, 1]
        for member in members:
            assert len(await outbox_for(app, member.id)) == 1
    finally:
        await other_engine.dispose()


async def test_a_held_out_birthday_member_gets_no_greeting_and_no_coupon_from_the_button(
    app: App, clock: FrozenClock
) -> None:
    await set_automations(app, {"birthday": {"holdout_pct": 50}})
    members = [
        await make_member(
            app, f"M{i}", f"08123400{i:02d}", user_id=f"m{i}", birthday=date(1990, 3, 5)
        )
        for i in range(12)
    ]
    clock.set(bangkok(2026, 3, 5, 11))
    await tick(app, BIRTHDAY_JOBS)
    campaign_id = await _birthday_campaign_id(app)
    async with app.uow() as uow:
        query = select(CampaignMember.member_id).where(
            CampaignMember.campaign_id == campaign_id, CampaignMember.group == "holdout"
        )
        held = set((await session_of(uow).execute(query)).scalars().all())
    assert held, "a 50% hold-out of 12 members kept nobody"
    telegram = FakeTelegram()
    await OutboxDispatcher(app.uow, app.clock, {Channel.TELEGRAM: telegram}).drain_once()
    by_user = {f"m{i}": member.id for i, member in enumerate(members)}
    assert {by_user[push.user_id] for push in telegram.pushes} == {m.id for m in members} - held
    # a forwarded greeting's button pressed by a held-out member gives them nothing
    index = next(i for i, member in enumerate(members) if member.id in held)
    await Chat(app, user_id=f"m{index}").press(f"cmp:{campaign_id}")
    assert await _coupons(app, members[index].id) == []


async def test_a_member_greeted_in_early_january_who_moves_their_birthday_to_december_is_not_greeted_twice(  # noqa: E501
    app: App, clock: FrozenClock
) -> None:
    await set_automations(app, {"birthday": {"holdout_pct": 0}})
    ploy = await make_member(app, "Ploy", user_id="m1", birthday=date(1990, 1, 1))
    clock.set(bangkok(2027, 1, 1, 11))
    await run_birthday(app)
    assert len(await outbox_for(app, ploy.id)) == 1
    async with app.uow() as uow:  # she edits her birthday to 31 December
        member = await uow.members.get(ploy.id)
        assert member is not None
        member.birthday = date(1990, 12, 31)
        await uow.commit()
    for day in (date(2027, 12, 30), date(2027, 12, 31)):
        clock.set(bangkok(day.year, day.month, day.day, 11))
        await run_birthday(app)
    assert len(await outbox_for(app, ploy.id)) == 1  # one birthday greeting a year
