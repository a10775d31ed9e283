"""/stats: the numbers in the chat and a chart image."""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal

from PIL import Image

from bot.bootstrap import App
from tests.unit.staff_support import staff_chat
from tests.unit.tracking_support import (
    AudienceRow,
    add_audience,
    add_campaign,
    add_member,
    add_sale,
)


async def _campaign(app: App, name: str = "Afternoon 1-get-1") -> int:
    start = app.clock.now() - timedelta(days=8)
    campaign = await add_campaign(app, start, name=name, line_price=Decimal("0.20"))
    recipient, holdout = await add_member(app), await add_member(app)
    await add_audience(
        app,
        campaign,
        [
            AudienceRow(recipient, channel="line", sent_at=start),
            AudienceRow(holdout, group="holdout", status=None),
        ],
    )
    await add_sale(app, recipient, "120", start + timedelta(days=1))
    return campaign


async def test_stats_sends_the_numbers_and_a_png_chart(app: App) -> None:
    campaign = await _campaign(app)
    manager = await staff_chat(app, "mg", "manager", language_code="en")
    replies = await manager.say(f"/stats {campaign}")
    text = replies[0].text
    assert "Afternoon 1-get-1" in text
    assert "Revenue: recipients ฿120 vs hold-out ฿0" in text
    assert "Too few members to tell" in text
    chart = replies[1].attachment
    assert chart is not None
    assert chart.mime_type == "image/png"
    assert Image.open(io.BytesIO(chart.content)).format == "PNG"


async def test_stats_without_argument_shows_the_latest_sent_campaign(app: App) -> None:
    await _campaign(app, "older")
    await _campaign(app, "newer")
    manager = await staff_chat(app, "mg", "manager", language_code="en")
    await manager.say("/stats")
    assert "newer" in manager.text()


async def test_stats_finds_a_campaign_by_name(app: App) -> None:
    await _campaign(app, "older")
    await _campaign(app, "newer")
    manager = await staff_chat(app, "mg", "manager", language_code="en")
    await manager.say("/stats older")
    assert "older" in manager.text()


async def test_stats_of_an_unknown_campaign_says_so(app: App) -> None:
    manager = await staff_chat(app, "mg", "manager", language_code="en")
    await manager.say("/stats nothing-here")
    assert "No campaign with that number or name" in manager.text()


async def test_a_cashier_may_not_see_stats(app: App) -> None:
    await _campaign(app)
    cashier = await staff_chat(app, "c1", "cashier", language_code="en")
    replies = await cashier.say("/stats")
    assert all(reply.attachment is None for reply in replies)
    assert "Revenue" not in cashier.text()
