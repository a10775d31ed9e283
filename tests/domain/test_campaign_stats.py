"""compute_stats on hand-built campaigns equals the numbers counted by hand."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from bot.bootstrap import App
from shop.campaigns.stats import CampaignNotFound, CampaignStats, compute_stats
from shop.campaigns.uplift import Verdict
from tests.unit.tracking_support import (
    AudienceRow,
    add_audience,
    add_campaign,
    add_contact_event,
    add_coupon,
    add_member,
    add_sale,
)


async def _stats(app: App, campaign_id: int) -> CampaignStats:
    async with app.uow() as uow:
        return await compute_stats(uow, campaign_id, app.clock.now())


async def _hand_built(app: App) -> int:
    """Six recipients (one excluded), three hold-out members; see the comments for each."""
    now = app.clock.now()
    start = now - timedelta(days=8)
    sent = start + timedelta(minutes=10)
    campaign = await add_campaign(
        app, start, line_price=Decimal("0.50"), offer_cost=Decimal("20.00")
    )
    r = [await add_member(app, f"r{i}") for i in range(1, 7)]
    h = [await add_member(app, f"h{i}") for i in range(1, 4)]
    await add_audience(
        app,
        campaign,
        [
            AudienceRow(r[0], sent_at=sent, clicked_at=sent, claimed_at=sent),
            AudienceRow(r[1], channel="line", sent_at=sent, clicked_at=sent),
            AudienceRow(r[2], status="failed"),
            AudienceRow(r[3], status="unreachable"),
            AudienceRow(r[4], channel="line", sent_at=sent),
            AudienceRow(r[5], excluded="no_consent", status=None),
            AudienceRow(h[0], group="holdout", status=None),
            AudienceRow(h[1], group="holdout", status=None),
            AudienceRow(h[2], group="holdout", status=None),
        ],
    )
    await add_coupon(app, campaign, r[0], redeemed_at=start + timedelta(days=1))
    await add_coupon(app, campaign, r[1])  # claimed elsewhere, never redeemed
    await add_sale(app, r[0], "100", start + timedelta(days=1))
    await add_sale(app, r[0], "50", start + timedelta(days=2), voided=True)  # voided: no
    await add_sale(app, r[1], "200", start + timedelta(days=6, hours=23))
    await add_sale(app, r[1], "300", start + timedelta(days=7, minutes=1))  # after the window
    await add_sale(app, r[5], "500", start + timedelta(days=1))  # excluded: not measured
    await add_sale(app, h[0], "80", start + timedelta(days=3))
    await add_sale(app, h[2], "90", start - timedelta(hours=1))  # before the start
    await add_contact_event(app, r[3], "blocked", start + timedelta(hours=1))  # never reached
    await add_contact_event(app, r[4], "blocked", sent + timedelta(hours=47))  # within 48 h
    await add_contact_event(app, r[4], "stopped", sent + timedelta(hours=49))  # too late
    await add_contact_event(app, h[1], "blocked", start + timedelta(hours=10))
    return campaign


async def test_group_counts_equal_the_hand_count(app: App) -> None:
    stats = await _stats(app, await _hand_built(app))
    r, h = stats.recipients, stats.holdout
    assert (r.members, r.measured, r.excluded) == (6, 5, {"no_consent": 1})
    assert (r.sent, r.failed, r.unreachable, r.pending) == (3, 1, 1, 0)
    assert (r.clicked, r.claimed, r.redeemed) == (2, 1, 1)
    assert (r.blocked, r.stopped) == (1, 0)
    assert (h.members, h.measured, h.sent, h.clicked, h.redeemed) == (3, 3, 0, 0, 0)
    assert (h.blocked, h.stopped) == (1, 0)


async def test_visits_and_revenue_count_only_unvoided_sales_in_the_window(app: App) -> None:
    stats = await _stats(app, await _hand_built(app))
    r, h = stats.recipients, stats.holdout
    assert (r.converters, r.visits, r.revenue) == (2, 2, Decimal("300.00"))
    assert (h.converters, h.visits, h.revenue) == (1, 1, Decimal("80.00"))
    assert r.revenue_per_member == Decimal("60.00")
    assert h.revenue_per_member == Decimal("26.67")
    assert r.conversion == pytest.approx(2 / 5)


async def test_cost_roi_and_small_sample_verdict(app: App) -> None:
    stats = await _stats(app, await _hand_built(app))
    assert stats.line_messages == 2
    assert stats.cost == Decimal("21.00")  # 2 LINE messages × 0.50 + 1 redemption × 20
    assert stats.revenue_uplift.verdict is Verdict.TOO_FEW
    assert stats.revenue_uplift.difference == pytest.approx(60 - 80 / 3)
    assert stats.incremental_revenue == Decimal("166.67")
    assert stats.roi == pytest.approx((166.67 - 21) / 21)


async def test_a_block_is_blamed_on_the_last_campaign_that_reached_the_member(app: App) -> None:
    now = app.clock.now()
    first_start = now - timedelta(days=5)
    member = await add_member(app)
    first = await add_campaign(app, first_start, name="first")
    second = await add_campaign(app, first_start + timedelta(hours=1), name="second")
    await add_audience(app, first, [AudienceRow(member, sent_at=first_start)])
    await add_audience(app, second, [AudienceRow(member, sent_at=first_start + timedelta(hours=1))])
    await add_contact_event(app, member, "blocked", first_start + timedelta(hours=2))
    assert (await _stats(app, first)).recipients.blocked == 0
    assert (await _stats(app, second)).recipients.blocked == 1


async def test_a_campaign_not_started_has_no_money_numbers(app: App) -> None:
    campaign = await add_campaign(app, None, status="draft")
    stats = await _stats(app, campaign)
    assert stats.started_at is None
    assert stats.recipients.members == 0
    assert stats.revenue_uplift.verdict is Verdict.TOO_FEW
    assert stats.roi is None


async def test_an_unknown_campaign_is_not_found(app: App) -> None:
    with pytest.raises(CampaignNotFound):
        await _stats(app, 999)


async def test_large_groups_get_an_interval(app: App) -> None:
    start = app.clock.now() - timedelta(days=8)
    campaign = await add_campaign(app, start)
    rows = []
    for i in range(80):
        member = await add_member(app, f"x{i}")
        group = "recipient" if i < 40 else "holdout"
        rows.append(AudienceRow(member, group=group, sent_at=start, status="sent"))
        if i % 4 == 0:  # every 4th member of either group buys
            amount = "150" if group == "recipient" else "100"
            await add_sale(app, member, amount, start + timedelta(days=1))
    await add_audience(app, campaign, rows)
    stats = await _stats(app, campaign)
    estimate = stats.revenue_uplift
    assert estimate.verdict is not Verdict.TOO_FEW
    assert estimate.difference == pytest.approx(150 * 10 / 40 - 100 * 10 / 40)
    assert estimate.low < estimate.difference < estimate.high
