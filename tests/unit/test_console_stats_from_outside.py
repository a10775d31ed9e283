"""The console's campaign list and page, over HTTP, on campaigns the simulator never makes."""

from __future__ import annotations

import html
import re
from datetime import datetime, timedelta

from bot.bootstrap import App
from tests.unit.admin_support import console_client, signed_in
from tests.unit.staff_support import staff_chat
from tests.unit.tracking_support import (
    AudienceRow,
    add_audience,
    add_campaign,
    add_groups,
    add_member,
    add_sale,
)


async def _campaign(
    app: App, recipients: int, holdout: int
) -> tuple[int, datetime, list[int], list[int]]:
    start = app.clock.now() - timedelta(days=8)
    groups = await add_groups(app, start, recipients, holdout, name="Uniform")
    return groups.campaign, start, groups.sent, groups.held


async def _pages(app: App, campaign: int) -> tuple[str, str]:
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    async with console_client(app) as client:
        browser = await signed_in(client, owner)
        listing = await (await browser.get("/admin/campaigns")).text()
        page = await (await browser.get(f"/admin/campaigns/{campaign}")).text()
    return html.unescape(listing), html.unescape(page)


async def test_voided_sales_show_no_revenue_on_the_console(app: App) -> None:
    campaign, start, sent, _ = await _campaign(app, 30, 30)
    for member in sent:
        await add_sale(app, member, "250", start + timedelta(days=1), voided=True)
    listing, page = await _pages(app, campaign)
    assert "revenue ฿0 · too few to tell" in listing
    assert "Revenue: recipients ฿0 vs hold-out ฿0" in page
    assert "Extra revenue and ROI: too few members to tell yet." in page
    assert not re.search(r"\bnan\b|\binf\b", page, re.IGNORECASE)


async def test_uniform_spending_is_not_shown_as_an_exact_uplift_on_the_console(app: App) -> None:
    campaign, start, sent, held = await _campaign(app, 30, 30)
    for member in sent:
        await add_sale(app, member, "100", start + timedelta(days=2))
    for member in held:
        await add_sale(app, member, "90", start + timedelta(days=2))
    listing, page = await _pages(app, campaign)
    assert "Revenue: recipients ฿3,000 vs hold-out ฿2,700" in page
    # "+฿10/member (95%: +฿10 to +฿10)": sixty members cannot make the effect exactly ฿10
    summary = re.search(r"sent 30 · [^<]*", listing)
    assert summary is not None
    assert not re.search(r"95%: ([+−]?฿[\d,.]+) to \1\)", summary.group()), summary.group()
    assert "too little variation to tell" in summary.group()
    assert "Extra revenue and ROI: too little variation to tell yet." in page


async def test_a_hold_out_of_nobody_has_no_bars_at_zero_on_the_console(app: App) -> None:
    """A 10% hold-out of five members rounds to nobody: no ฿0 mean or 0.0% share for it."""
    campaign, start, sent, _ = await _campaign(app, 5, 0)
    for member in sent:
        await add_sale(app, member, "100", start + timedelta(days=1))
    _listing, page = await _pages(app, campaign)
    assert "Revenue per member: ฿100 vs —" in page
    assert "Visited at least once: 100.0% of recipients vs — of hold-out" in page
    assert ">฿0<" not in page  # the revenue bars: the hold-out's is a dash
    assert ">0.0%<" not in page
    assert page.count(">—<") >= 2


async def test_the_console_page_shows_the_messages_withdrawn_unsent(app: App) -> None:
    start = app.clock.now() - timedelta(hours=1)
    campaign = await add_campaign(app, start, name="Uniform", status="cancelled")
    done = [await add_member(app) for _ in range(3)]
    withdrawn = [await add_member(app) for _ in range(4)]
    held = await add_member(app)
    await add_audience(
        app,
        campaign,
        [AudienceRow(m, sent_at=start) for m in done]
        + [AudienceRow(m, status="cancelled") for m in withdrawn]
        + [AudienceRow(held, group="holdout", status=None)],
    )
    _, page = await _pages(app, campaign)
    assert "Sent 3 · failed 0 · blocked the bot 0 · waiting 0" in page
    assert "Withdrawn unsent 4 " in page
