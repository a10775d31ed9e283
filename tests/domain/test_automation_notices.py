"""Expiry reminders and tier-downgrade notices report like campaigns: one campaign per month,
hold-out 0% unless the owner keeps one, a held-out member simply not told."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from bot.bootstrap import App
from bot.core.clock import FrozenClock
from jobs.automations.expiry import run_expiry
from jobs.automations.tiers import run_tier_review
from shop.campaigns.stats import compute_stats
from shop.loyalty import DEFAULT_TIERS
from storage.models import Campaign, CampaignMember
from storage.raw_session import session_of
from tests.domain.automation_support import bangkok, outbox_for, set_automations
from tests.unit.inbox_support import add_sale, dispatcher
from tests.unit.staff_support import make_member, staff_chat


async def _members_with_points(app: App, count: int) -> list[int]:
    ids = []
    for n in range(count):
        member = await make_member(app, f"M{n}", f"081-000-{n:04d}", user_id=f"u{n}")
        async with app.uow() as uow:
            await uow.points.append(member.id, 100, "adjust", app.clock.now())
            await uow.commit()
        ids.append(member.id)
    return ids


async def _campaign(app: App, kind: str) -> tuple[Campaign, list[CampaignMember]]:
    async with app.uow() as uow:
        campaign = (
            await session_of(uow).execute(select(Campaign).where(Campaign.kind == kind))
        ).scalar_one()
        rows = await session_of(uow).execute(
            select(CampaignMember)
            .where(CampaignMember.campaign_id == campaign.id)
            .order_by(CampaignMember.member_id)
        )
        return campaign, list(rows.scalars().all())


async def _remind_on_11_december(app: App, clock: FrozenClock, count: int) -> list[int]:
    clock.set(bangkok(2026, 1, 10, 11))
    ids = await _members_with_points(app, count)
    clock.set(bangkok(2026, 12, 11, 9))  # 30 days before the points of 10 Jan 2026 expire
    await run_expiry(app)
    return ids


async def test_held_out_members_get_no_reminder_and_are_counted_as_hold_out(
    app: App, clock: FrozenClock
) -> None:
    await set_automations(app, {"expiry": {"holdout_pct": 10}})
    ids = await _remind_on_11_december(app, clock, 40)
    campaign, audience = await _campaign(app, "automation:expiry")
    assert (campaign.period_key, campaign.holdout_pct) == ("2026-12", 10)
    assert [row.member_id for row in audience] == ids
    held = {row.member_id for row in audience if row.group == "holdout"}
    assert held  # 10% of 40 by hash
    for member_id in ids:
        reminders = await outbox_for(app, member_id, "autoexp:")
        assert len(reminders) == (0 if member_id in held else 1)
    recipients = [row for row in audience if row.group == "recipient"]
    assert all(row.outbox_key == f"autoexp:{row.member_id}:2027-01-10" for row in recipients)


async def test_stats_of_the_reminders_show_sent_equal_to_the_recipients(
    app: App, clock: FrozenClock
) -> None:
    await set_automations(app, {"expiry": {"holdout_pct": 10}})
    await _remind_on_11_december(app, clock, 40)
    disp, telegram, _ = dispatcher(app)
    await disp.drain_once()
    campaign, audience = await _campaign(app, "automation:expiry")
    async with app.uow() as uow:
        stats = await compute_stats(uow, campaign.id, app.clock.now())
    recipients = sum(1 for row in audience if row.group == "recipient")
    assert stats.recipients.sent == recipients == len(telegram.pushes)
    assert stats.holdout.members == 40 - recipients
    assert not stats.no_holdout


async def test_reminders_without_hold_out_say_so_in_stats(app: App, clock: FrozenClock) -> None:
    ids = await _remind_on_11_december(app, clock, 3)
    campaign, audience = await _campaign(app, "automation:expiry")
    assert campaign.holdout_pct == 0
    assert [row.group for row in audience] == ["recipient"] * len(ids)
    owner = await staff_chat(app, "own1", "owner", language_code="en")
    await owner.say(f"/stats {campaign.id}")
    text = owner.text()
    assert "No hold-out was kept (hold-out 0%), so the uplift is not measured" in text
    assert "Too few members" not in text
    await owner.say("/campaigns")
    assert "no hold-out, uplift not measured" in owner.text()


async def test_a_member_reminded_late_in_the_month_is_measured_from_their_reminder(
    app: App, clock: FrozenClock
) -> None:
    clock.set(bangkok(2026, 1, 10, 11))
    [early] = await _members_with_points(app, 1)
    clock.set(bangkok(2026, 1, 24, 11))
    late = (await make_member(app, "Late", "081-999-0000", user_id="late")).id
    async with app.uow() as uow:
        await uow.points.append(late, 100, "adjust", app.clock.now())
        await uow.commit()
    for day in (11, 25):  # reminders for 10 and 24 Jan 2027
        clock.set(bangkok(2026, 12, day, 9))
        await run_expiry(app)
    await add_sale(app, late, "asoke", bangkok(2026, 12, 27, 12), "300.00")  # in late's week
    await add_sale(app, early, "asoke", bangkok(2026, 12, 20, 12), "90.00")  # after early's
    clock.set(bangkok(2027, 1, 5, 9))
    campaign, _ = await _campaign(app, "automation:expiry")
    async with app.uow() as uow:
        stats = await compute_stats(uow, campaign.id, app.clock.now())
    assert (stats.recipients.converters, stats.recipients.revenue) == (1, Decimal("300.00"))
    assert stats.window_end == bangkok(2026, 12, 25, 9) + timedelta(days=7)


async def test_a_second_expiry_date_in_the_month_is_still_reminded_once(
    app: App, clock: FrozenClock
) -> None:
    clock.set(bangkok(2026, 1, 10, 11))
    [member_id] = await _members_with_points(app, 1)
    clock.set(bangkok(2026, 1, 20, 11))
    async with app.uow() as uow:
        await uow.points.append(member_id, 30, "adjust", app.clock.now())
        await uow.commit()
    for day in (11, 21, 21):  # reminders for 10 and 20 Jan 2027; the second run adds nothing
        clock.set(bangkok(2026, 12, day, 9))
        await run_expiry(app)
    keys = [row.dedupe_key for row in await outbox_for(app, member_id, "autoexp:")]
    assert keys == [f"autoexp:{member_id}:2027-01-10", f"autoexp:{member_id}:2027-01-20"]
    _, audience = await _campaign(app, "automation:expiry")
    assert [row.member_id for row in audience] == [member_id]  # counted once in the month


async def test_a_tier_downgrade_notice_is_a_recipient_of_the_review_campaign(
    app: App, clock: FrozenClock
) -> None:
    clock.set(bangkok(2026, 3, 1, 11))
    member = await make_member(app, "Ploy", user_id="m1", marketing=False)
    async with app.uow() as uow:
        stored = await uow.members.get(member.id)
        assert stored is not None
        stored.tier = DEFAULT_TIERS[-1].name
        stored.tier_since = app.clock.now() - timedelta(days=400)
        await uow.commit()
    clock.advance(timedelta(minutes=1))
    counts = await run_tier_review(app)
    await run_tier_review(app)
    assert (counts["downgraded"], counts["notified"]) == (1, 1)
    campaign, [row] = await _campaign(app, "automation:tiers")
    assert (campaign.period_key, campaign.holdout_pct) == ("2026-03", 0)
    [notice] = await outbox_for(app, member.id, "tier:")
    assert (row.member_id, row.group, row.excluded) == (member.id, "recipient", None)
    assert row.outbox_key == notice.dedupe_key
    assert notice.promotional is False
