"""The feedback request reports like a campaign: one campaign per month, each sale asked once,
each member counted once, answers and the average rating in its /stats."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.bootstrap import App
from bot.core.clock import FrozenClock
from jobs.feedback import run_feedback
from storage.models import Campaign, CampaignMember, Feedback
from storage.raw_session import session_of
from tests.domain.automation_support import bangkok
from tests.unit.inbox_support import add_sale, dispatcher, feedback_rows
from tests.unit.sales_support import queued
from tests.unit.staff_support import make_member, staff_chat


async def _audience(app: App) -> tuple[Campaign, list[CampaignMember]]:
    async with app.uow() as uow:
        campaign = (
            await session_of(uow).execute(
                select(Campaign).where(Campaign.kind == "automation:feedback")
            )
        ).scalar_one()
        rows = await session_of(uow).execute(
            select(CampaignMember)
            .where(CampaignMember.campaign_id == campaign.id)
            .order_by(CampaignMember.member_id)
        )
        return campaign, list(rows.scalars().all())


async def _two_visits(app: App, clock: FrozenClock, member_id: int, code: str) -> list[int]:
    first = await add_sale(app, member_id, code, clock.now())
    clock.advance(timedelta(hours=3))
    await run_feedback(app)
    second = await add_sale(app, member_id, code, clock.now())
    clock.advance(timedelta(hours=3))
    await run_feedback(app)
    await run_feedback(app)
    return [first, second]


async def test_each_sale_is_asked_once_and_the_member_counted_once(
    app: App, clock: FrozenClock
) -> None:
    clock.set(bangkok(2026, 3, 3, 10))
    member = await make_member(app, "Ploy", user_id="m1")
    sales = await _two_visits(app, clock, member.id, "ratchada")
    rows = await queued(app, "feedback:")
    assert [row.dedupe_key for row in rows] == [f"feedback:{sale}" for sale in sales]
    campaign, [audience] = await _audience(app)
    assert (campaign.period_key, campaign.holdout_pct) == ("2026-03", 0)
    assert (audience.member_id, audience.group) == (member.id, "recipient")
    assert audience.outbox_key == f"feedback:{sales[0]}"


async def test_a_held_out_member_is_asked_about_none_of_their_sales(
    app: App, clock: FrozenClock
) -> None:
    async with app.uow() as uow:
        await uow.settings.put("feedback", {"holdout_pct": 50}, app.clock.now())
        await uow.commit()
    clock.set(bangkok(2026, 3, 3, 10))
    members = [
        await make_member(app, f"M{n}", f"081-000-{n:04d}", user_id=f"u{n}") for n in range(6)
    ]
    for member in members:
        await add_sale(app, member.id, "asoke", clock.now() + timedelta(minutes=member.id))
    clock.advance(timedelta(hours=4))
    await run_feedback(app)
    for member in members:
        await add_sale(app, member.id, "asoke", clock.now() + timedelta(minutes=member.id))
    clock.advance(timedelta(hours=4))
    await run_feedback(app)
    _, audience = await _audience(app)
    groups = {row.member_id: row.group for row in audience}
    assert set(groups.values()) == {"recipient", "holdout"}  # 50% of six by hash
    asked = [row.member_id for row in await queued(app, "feedback:")]
    for member in members:
        assert asked.count(member.id) == (2 if groups[member.id] == "recipient" else 0)
    assert len(await feedback_rows(app)) == 12  # every sale dealt with once


async def test_feedback_stats_show_the_answers_and_the_average_rating(
    app: App, clock: FrozenClock
) -> None:
    clock.set(bangkok(2026, 3, 3, 10))
    ploy = await make_member(app, "Ploy", "081-000-0001", user_id="m1")
    nok = await make_member(app, "Nok", "081-000-0002", user_id="m2")
    await _two_visits(app, clock, ploy.id, "ratchada")
    await add_sale(app, nok.id, "ratchada", clock.now())
    clock.advance(timedelta(hours=3))
    await run_feedback(app)
    disp, _, _ = dispatcher(app)
    await disp.drain_once()
    async with app.uow() as uow:
        rows = (await session_of(uow).execute(select(Feedback).order_by(Feedback.id))).scalars()
        for row, rating in zip(rows, (5, 2), strict=False):
            row.rating, row.answered_at = rating, app.clock.now()
        await uow.commit()
    campaign, _ = await _audience(app)
    owner = await staff_chat(app, "own1", "owner", language_code="en")
    await owner.say(f"/stats {campaign.id}")
    assert "Answers: 2 of 3 asked · average 3.5★ · low ratings 1" in owner.text()
