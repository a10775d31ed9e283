"""Charts are PNG images an image library can open."""

from __future__ import annotations

import io
import math
import warnings
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from PIL import Image

from bot.i18n import t
from handlers.campaigns.chart_font import emoji_font_file, font_files
from handlers.campaigns.charts import bar_chart, campaign_chart
from handlers.staff.report import report_charts
from shop.campaigns.stats import CampaignStats, GroupStats
from shop.campaigns.uplift import Estimate, Verdict
from storage.reports import BranchSales, ShopReport


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


# -- Thai (issue 14 item 9) ------------------------------------------------------------------


def _thai_campaign() -> CampaignStats:
    group = GroupStats(members=40, measured=40, sent=40, clicked=12, claimed=9, redeemed=5)
    return CampaignStats(
        1,
        "ชาไทยเย็นฟรี สาขาอโศก",
        "sent",
        None,
        None,
        group,
        GroupStats(members=10, measured=10),
        Estimate(0.0, math.nan, math.nan, Verdict.TOO_FEW),
        Estimate(0.0, math.nan, math.nan, Verdict.TOO_FEW),
        0,
        Decimal(0),
        Decimal(0),
        None,
    )


def _thai_report() -> ShopReport:
    return ShopReport(
        members=3,
        new_members=1,
        active_members=2,
        by_group={"new": 1, "regular": 1, "lapsed": 1},
        by_tier={"member": 3},
        points_outstanding=0,
        point_value=Decimal("0.1"),
        liability=Decimal(0),
        by_branch=[BranchSales("asoke", "อโศก", "Asoke", 2, Decimal(300))],
        revenue_by_weekday=[Decimal(v) for v in range(7)],
        revenue_by_hour=[Decimal(v) for v in range(24)],
        sales_last_30d=2,
        revenue_last_30d=Decimal(300),
    )


def _texts(png_maker: Callable[[], object]) -> list[str]:
    """Every text drawn by ``png_maker``, caught as matplotlib hands it to the renderer."""
    from matplotlib.text import Text

    drawn: list[str] = []
    original = Text.draw

    def spy(self: Text, renderer: object) -> None:
        drawn.append(self.get_text())
        original(self, renderer)  # type: ignore[arg-type]

    Text.draw = spy  # type: ignore[method-assign]
    try:
        png_maker()
    finally:
        Text.draw = original  # type: ignore[method-assign]
    return [text for text in drawn if text]


def test_charts_in_thai_render_every_glyph_in_the_thai_font() -> None:
    """A missing glyph is a warning in matplotlib: as an error here, one would fail the test."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        texts = _texts(lambda: campaign_chart(_thai_campaign(), "th"))
        report = _texts(lambda: report_charts(_thai_report(), "th"))
    assert "ชาไทยเย็นฟรี สาขาอโศก" in texts  # the campaign's name is the title
    assert t("th", "chart.recipients") in texts
    assert t("th", "chart.funnel") in texts
    assert {"อโศก", t("th", "report.group_lapsed"), "พฤ."} <= set(report)
    from matplotlib import font_manager, rcParams

    used = font_manager.findfont(font_manager.FontProperties(family=rcParams["font.family"]))
    assert Path(used) in font_files()
    assert Path(used).name == "Sarabun-Regular.ttf"


def test_an_emoji_in_a_campaign_name_is_drawn_from_the_emoji_font_behind_the_thai_one() -> None:
    """Sarabun and DejaVu Sans have no emoji: without Noto Emoji behind them, '🧋' and '👩‍👧'
    would be empty boxes (a "missing from font" warning, an error here)."""
    from dataclasses import replace

    stats = replace(_thai_campaign(), name="🧋 1 แถม 1 ☕️ 👩‍👧 บ่ายวันธรรมดา")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        texts = _texts(lambda: campaign_chart(stats, "th"))
    assert stats.name in texts
    from matplotlib import rcParams

    assert rcParams["font.family"][0] == "Sarabun"  # Thai is drawn in Sarabun as before
    assert emoji_font_file().is_file()


def test_characters_no_chart_font_has_are_left_out_of_the_name_and_the_chart_says_so() -> None:
    """Chinese has no glyph in Sarabun, DejaVu Sans or Noto Emoji: rather than empty boxes the
    title is the name without it, and a line under the chart says why. A zero-width space
    between Thai words is drawn (as nothing) without a word."""
    from dataclasses import replace

    mixed = replace(_thai_campaign(), name="烤鸭 ชาไทย 🧋")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        texts = _texts(lambda: campaign_chart(mixed, "en"))
        spaced = _texts(lambda: campaign_chart(replace(mixed, name="ชาไทย\u200bเย็น"), "th"))
    assert " ชาไทย 🧋" in texts
    assert t("en", "chart.left_out") in texts
    assert "ชาไทย\u200bเย็น" in spaced
    assert t("th", "chart.left_out") not in spaced


def test_charts_in_english_have_no_thai_labels() -> None:
    texts = _texts(lambda: campaign_chart(_thai_campaign(), "en"))
    assert t("en", "chart.recipients") in texts
    assert t("th", "chart.recipients") not in texts
    report = _texts(lambda: report_charts(_thai_report(), "en"))
    assert {"Asoke", "Thu"} <= set(report)
    assert "อโศก" not in report


def test_thai_without_the_thai_font_would_be_empty_boxes() -> None:
    """What the Thai test guards against: matplotlib's own font has no Thai glyphs."""
    from matplotlib.figure import Figure

    figure = Figure()
    figure.suptitle("ชาไทย", family="DejaVu Sans")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(UserWarning, match="missing from font"):
            figure.savefig(io.BytesIO(), format="png")


def test_a_hold_out_of_nobody_gets_no_bar_at_zero() -> None:
    """A 10% hold-out of five members rounds to nobody: its mean is undefined, so no bar is
    drawn for it (a bar at 0 would be a mean nobody had) and the title says why."""
    recipients = GroupStats(members=5, measured=5, sent=5, converters=5, revenue=Decimal(500))
    stats = CampaignStats(
        1,
        "Small",
        "sent",
        None,
        None,
        recipients,
        GroupStats(),
        Estimate(100, math.nan, math.nan, Verdict.TOO_FEW),
        Estimate(1.0, math.nan, math.nan, Verdict.TOO_FEW),
        5,
        Decimal(0),
        Decimal(0),
        None,
    )
    assert not stats.no_holdout
    texts = _texts(lambda: campaign_chart(stats, "en"))
    assert t("en", "chart.holdout") not in texts
    assert t("en", "chart.recipients") in texts
    assert "100" in texts  # the recipients' bar, annotated
    title = t("en", "chart.revenue_per_member") + "\n" + t("en", "chart.no_holdout")
    assert title in texts
