"""Charts are PNG images an image library can open."""

from __future__ import annotations

import io
import math
from decimal import Decimal

from PIL import Image

from handlers.campaigns.charts import bar_chart, campaign_chart
from shop.campaigns.stats import CampaignStats, GroupStats
from shop.campaigns.uplift import Estimate, Verdict


def _is_png(data: bytes) -> bool:
    return Image.open(io.BytesIO(data)).format == "PNG"


def test_campaign_chart_is_a_png() -> None:
    stats = CampaignStats(
        campaign_id=1,
        name="Afternoon",
        status="sent",
        started_at=None,
        window_end=None,
        recipients=GroupStats(
            members=40,
            measured=40,
            sent=40,
            clicked=12,
            claimed=9,
            redeemed=5,
            converters=10,
            revenue=Decimal(1500),
            revenue_sq_satang=225000 * 100**2,
        ),
        holdout=GroupStats(
            members=40,
            measured=40,
            converters=10,
            revenue=Decimal(1000),
            revenue_sq_satang=100000 * 100**2,
        ),
        revenue_uplift=Estimate(12.5, -12.4, 37.4, Verdict.NO_EFFECT),
        conversion_uplift=Estimate(0.0, math.nan, math.nan, Verdict.TOO_FEW),
        line_messages=0,
        cost=Decimal(0),
        incremental_revenue=Decimal(500),
        roi=None,
    )
    assert _is_png(campaign_chart(stats))


def test_an_empty_campaign_chart_still_renders() -> None:
    empty = GroupStats()
    stats = CampaignStats(
        1,
        "x",
        "sent",
        None,
        None,
        empty,
        empty,
        Estimate(0, math.nan, math.nan, Verdict.TOO_FEW),
        Estimate(0, math.nan, math.nan, Verdict.TOO_FEW),
        0,
        Decimal(0),
        Decimal(0),
        None,
    )
    assert _is_png(campaign_chart(stats))


def test_a_campaign_without_hold_out_still_charts() -> None:
    recipients = GroupStats(members=3, measured=3, sent=3, converters=1, revenue=Decimal(90))
    stats = CampaignStats(
        1,
        "automation:expiry 2026-12",
        "sending",
        None,
        None,
        recipients,
        GroupStats(),
        Estimate(30, math.nan, math.nan, Verdict.TOO_FEW),
        Estimate(0.3, math.nan, math.nan, Verdict.TOO_FEW),
        0,
        Decimal(0),
        Decimal(0),
        None,
        holdout_pct=0,
    )
    assert stats.no_holdout
    assert _is_png(campaign_chart(stats))


def test_bar_chart_is_a_png() -> None:
    assert _is_png(
        bar_chart(
            "Revenue by hour", [f"{h:02d}" for h in range(24)], [Decimal(h) for h in range(24)]
        )
    )
    assert _is_png(bar_chart("Branches", ["Asoke"], [Decimal(5)], horizontal=True))
