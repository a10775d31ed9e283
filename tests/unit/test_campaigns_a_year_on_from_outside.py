"""An owner's campaign of thirteen months ago, in a shop whose automations (birthday, expiry,
tiers, win-back, feedback) each opened one campaign per month since: ``/stats`` still finds it
by name, and ``/campaigns`` must still lead to it (last year's Songkran is what this year's is
compared with)."""

from __future__ import annotations

import re
from datetime import timedelta

from bot.bootstrap import App
from bot.core.clock import FrozenClock
from storage.models import Campaign
from storage.raw_session import session_of
from tests.unit.admin_support import console_client, signed_in
from tests.unit.staff_support import staff_chat

AUTOMATIONS = ("birthday", "expiry", "tiers", "winback", "feedback")


async def _a_year_of_campaigns(app: App, clock: FrozenClock) -> None:
    now = clock.now()
    songkran = now - timedelta(days=395)
    rows = [
        Campaign(
            name="Songkran",
            kind="campaign",
            segment_name="all",
            rule="all",
            message="Happy Songkran!",
            status="sent",
            started_at=songkran,
            finished_at=songkran + timedelta(hours=1),
            created_by="telegram:o1",
            created_at=songkran - timedelta(days=1),
        )
    ]
    for month in range(13, 0, -1):
        start = now - timedelta(days=30 * month)
        for name in AUTOMATIONS:
            rows.append(
                Campaign(
                    name="",
                    kind=f"automation:{name}",
                    period_key=f"{start:%Y-%m}",
                    segment_name=name,
                    rule="",
                    message="",
                    holdout_pct=0,
                    status="sent",
                    started_at=start,
                    finished_at=start + timedelta(days=29),
                    created_by="system",
                    created_at=start,
                )
            )
    async with app.uow() as uow:
        session_of(uow).add_all(rows)
        await uow.commit()


async def test_stats_finds_last_years_campaign_by_name(app: App, clock: FrozenClock) -> None:
    await _a_year_of_campaigns(app, clock)
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    replies = await owner.say("/stats Songkran")
    assert "Songkran" in replies[0].text, replies[0].text


async def test_campaigns_still_lead_to_last_years_campaign(app: App, clock: FrozenClock) -> None:
    await _a_year_of_campaigns(app, clock)
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    replies = await owner.say("/campaigns")
    text = "\n".join(reply.text for reply in replies)
    further = [button for reply in replies for button in reply.buttons]
    assert "Songkran" in text or further, text


async def test_the_pages_of_campaigns_reach_last_years_and_name_each_month(
    app: App, clock: FrozenClock
) -> None:
    """Following the page button from /campaigns reaches Songkran; the automations' monthly
    campaigns are told apart by their month."""
    await _a_year_of_campaigns(app, clock)
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    replies = await owner.say("/campaigns")
    seen: list[str] = []
    for _ in range(10):
        [reply] = replies
        seen.append(reply.text)
        if "Songkran" in reply.text:
            break
        [turn] = reply.buttons
        replies = await owner.press(turn.action)
    assert "Songkran" in seen[-1], seen[-1]
    assert len(seen) == 4  # 66 campaigns, 20 to a page
    assert "page 1 of 4" in seen[0], seen[0]
    winbacks = [line for text in seen for line in text.splitlines() if "Win-back 20" in line]
    assert len(winbacks) == 13
    assert len(set(winbacks)) == 13, winbacks
    # the last page's button leads back to the newest campaigns
    [turn] = replies[0].buttons
    assert (await owner.press(turn.action))[0].text == seen[0]


async def test_the_consoles_campaign_list_links_to_older_campaigns(
    app: App, clock: FrozenClock
) -> None:
    await _a_year_of_campaigns(app, clock)
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    async with console_client(app) as client:
        browser = await signed_in(client, owner)
        path, pages = "/admin/campaigns", []
        for _ in range(5):
            page = await (await browser.get(path)).text()
            pages.append(page)
            found = re.search(r'href="(/admin/campaigns\?before=\d+)"', page)
            if found is None:
                break
            path = found.group(1)
        assert "Songkran" in pages[-1]
        assert "Songkran" not in pages[0]
        assert len(pages) == 2  # 66 campaigns, 50 to a page
        assert (await browser.get("/admin/campaigns?before=x")).status == 200
