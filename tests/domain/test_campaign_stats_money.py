"""/stats money figures: the earlier window's aggregates, cost within the window only, extra
revenue and ROI as ranges (never a number without a detected effect), overlapping campaigns,
and the recipient counts in the preview's and the send's words."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from bot.bootstrap import App
from shop.campaigns.stats import CampaignStats, compute_stats
from shop.campaigns.uplift import Verdict
from tests.unit.staff_support import staff_chat
from tests.unit.tracking_support import (
    AudienceRow,
    add_audience,
    add_campaign,
    add_coupon,
    add_member,
    add_sale,
)

pytestmark = pytest.mark.db


async def _stats(app: App, campaign_id: int) -> CampaignStats:
    async with app.uow() as uow:
        return await compute_stats(uow, campaign_id, app.clock.now())


async def _campaign(
    app: App, *, lift: str, offer_cost: str = "0", days_ago: int = 8, older: bool = False
) -> int:
    """40 recipients and 40 hold-out members; every other member bought 100 baht the week
    before and again in the window, recipients ``lift`` baht more."""
    start = app.clock.now() - timedelta(days=days_ago)
    campaign = await add_campaign(
        app, start, line_price=Decimal("1.00"), offer_cost=Decimal(offer_cost)
    )
    rows = []
    for i in range(80):
        member = await add_member(app, f"m{campaign}-{i}")
        recipient = i < 40
        rows.append(
            AudienceRow(member, group="recipient" if recipient else "holdout", sent_at=start,
                        channel="line", status="sent" if recipient else None)
        )  # fmt: skip
        if i % 2 == 0:
            await add_sale(app, member, "100", start - timedelta(days=3))
            if older:
                await add_sale(app, member, "30", start - timedelta(days=20))
                await add_sale(app, member, "500", start - timedelta(days=40))
            amount = Decimal(100) + (Decimal(lift) if recipient else 0) + i % 7
            await add_sale(app, member, str(amount), start + timedelta(days=1))
    await add_audience(app, campaign, rows)
    return campaign


async def test_the_earlier_window_is_aggregated_in_the_same_query(app: App) -> None:
    stats = await _stats(app, await _campaign(app, lift="50"))
    h = stats.holdout
    assert h.earlier == pytest.approx(20 * 100.0)
    assert h.earlier_sq == pytest.approx(20 * 100.0**2)
    revenue = [100 + i % 7 for i in range(40, 80, 2)]
    assert h.earlier_cross == pytest.approx(sum(100.0 * y for y in revenue))


async def test_the_history_covers_four_windows_and_the_same_length_window_one(app: App) -> None:
    # besides the sale the week before, each buyer also bought 20 days before the campaign (in
    # the four-week history only) and 40 days before (in neither window)
    campaign = await _campaign(app, lift="0", older=True)
    h = (await _stats(app, campaign)).holdout
    assert h.earlier == pytest.approx(20 * 130.0)
    assert h.earlier_sq == pytest.approx(20 * 130.0**2)
    revenue = [100 + i % 7 for i in range(40, 80, 2)]
    assert h.earlier_cross == pytest.approx(sum(130.0 * y for y in revenue))
    assert h.same_length == pytest.approx(20 * 100.0)
    assert h.same_length_sq == pytest.approx(20 * 100.0**2)
    assert h.revenue_moments().same_length() == (h.same_length, h.same_length_sq)


async def test_a_clear_uplift_gives_extra_revenue_and_roi_as_ranges(app: App) -> None:
    stats = await _stats(app, await _campaign(app, lift="50"))
    uplift = stats.revenue_uplift
    assert uplift.verdict is Verdict.UP
    assert stats.cost == Decimal("40.00")  # 40 LINE messages at ฿1
    assert stats.incremental_range is not None
    low, high = stats.incremental_range
    assert float(low) == pytest.approx(uplift.low * 40, abs=0.01)
    assert float(high) == pytest.approx(uplift.high * 40, abs=0.01)
    assert stats.roi_range == pytest.approx(((float(low) - 40) / 40, (float(high) - 40) / 40))

    manager = await staff_chat(app, "mg", "manager", language_code="en")
    await manager.say(f"/stats {stats.campaign_id}")
    roi_low, roi_high = (f"{v * 100:,.0f}%" for v in stats.roi_range)
    assert f"ROI {roi_low} to {roi_high} (95%)" in manager.text()


async def test_no_detectable_effect_claims_no_extra_revenue(app: App) -> None:
    stats = await _stats(app, await _campaign(app, lift="0"))
    assert stats.revenue_uplift.verdict is Verdict.NO_EFFECT
    assert stats.incremental_range is None
    assert stats.roi_range is None
    manager = await staff_chat(app, "mg", "manager", language_code="en")
    await manager.say(f"/stats {stats.campaign_id}")
    text = manager.text()
    assert "Extra revenue and ROI: no number claimed" in text
    assert "ROI -" not in text
    assert "No recipient was sent another campaign in this window." in text


async def test_only_redemptions_in_the_window_count_in_the_cost(app: App) -> None:
    start = app.clock.now() - timedelta(days=20)
    campaign = await add_campaign(app, start, offer_cost=Decimal("20.00"))
    early, late = await add_member(app, "early"), await add_member(app, "late")
    await add_audience(
        app, campaign, [AudienceRow(early, sent_at=start), AudienceRow(late, sent_at=start)]
    )
    await add_coupon(app, campaign, early, redeemed_at=start + timedelta(days=2))
    await add_coupon(app, campaign, late, redeemed_at=start + timedelta(days=12))
    stats = await _stats(app, campaign)
    assert (stats.recipients.redeemed, stats.recipients.redeemed_late) == (1, 1)
    assert stats.cost == Decimal("20.00")
    manager = await staff_chat(app, "mg", "manager", language_code="en")
    await manager.say(f"/stats {campaign}")
    assert "Redeemed after the window (not in the cost): 1" in manager.text()


async def test_recipients_of_another_campaign_in_the_window_are_counted(app: App) -> None:
    start = app.clock.now() - timedelta(days=8)
    first = await add_campaign(app, start, name="first")
    second = await add_campaign(app, start + timedelta(days=2), name="second")
    later = await add_campaign(app, start + timedelta(days=30), name="later")
    both, held, alone = [await add_member(app, n) for n in ("both", "held", "alone")]
    await add_audience(app, first, [AudienceRow(m, sent_at=start) for m in (both, held, alone)])
    await add_audience(
        app,
        second,
        [
            AudienceRow(both, sent_at=start + timedelta(days=2)),
            AudienceRow(held, group="holdout", status=None),  # got nothing from "second"
        ],
    )
    await add_audience(app, later, [AudienceRow(alone, sent_at=start + timedelta(days=30))])
    stats = await _stats(app, first)
    assert stats.overlapping == 1
    manager = await staff_chat(app, "mg", "manager", language_code="en")
    await manager.say(f"/stats {first}")
    assert "Also sent another campaign in this window: 1 recipient." in manager.text()
    assert "must not be added up across campaigns" in manager.text()


async def test_stats_counts_recipients_in_the_preview_and_send_words(app: App) -> None:
    start = app.clock.now() - timedelta(days=8)
    campaign = await add_campaign(app, start)
    members = [await add_member(app, f"w{i}") for i in range(6)]
    await add_audience(
        app,
        campaign,
        [
            AudienceRow(members[0], sent_at=start),
            AudienceRow(members[1], sent_at=start),
            AudienceRow(members[2], excluded="no_consent", status=None),
            AudienceRow(members[3], group="holdout", status=None),
            AudienceRow(members[4], group="holdout", excluded="stopped", status=None),
            AudienceRow(members[5], sent_at=start),
        ],
    )
    manager = await staff_chat(app, "mg", "manager", language_code="en")
    await manager.say(f"/stats {campaign}")
    text = manager.text()
    assert "In the segment 6 → left out 2 → hold-out 1 → sent to 3" in text
    assert "Left out: no marketing consent 1, sent /stop 1" in text
