"""The console's segments and campaigns in a real headless Chromium (the system's), driven by
Playwright, with the shop's members on the fake Telegram Bot API: the owner signs in from the
chat's link, builds the flagship segment (the five branches) and watches its live count, creates
the 1-get-1 Mon–Fri 14:00–16:00 campaign with a 10% hold-out, previews and sends it; members
press, claim and buy through the webhooks, and the campaign's page fills with the results.
Screenshots 390 px wide, in Thai and English, go to ``$CHATCRM_TEST_OUTPUT/console``."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest

from bot.bootstrap import App
from bot.core.clock import FrozenClock
from bot.core.messages import Channel
from jobs.dispatcher import OutboxDispatcher
from simulator.fakes.telegram_updates import callback_update, text_update
from tests.e2e import flagship_support as shop
from tests.e2e.telegram_world import TelegramWorld, telegram_world
from tests.e2e.test_admin_browser import CHROMIUM, PHONE_WIDTH, _screenshot, playwright_api
from tests.e2e.test_admin_browser_reports import a_newer_rule_aborts_the_count_in_flight
from tests.unit.staff_support import make_staff

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(CHROMIUM is None, reason="no system Chromium (./dev setup)"),
]

OWNER, CASHIER = 900, 901
RULE = "branch in (" + ", ".join(shop.FIVE) + ")"


class Script:
    """Telegram users typing and pressing; the owner writes in ``language``."""

    def __init__(self, world: TelegramWorld, language: str) -> None:
        self.world, self.language, self.update_id = world, language, 20_000

    async def _post(self, user_id: int, update: dict[str, Any]) -> str:
        self.update_id += 1
        before = len(self.world.fake.sent(user_id))
        assert await self.world.post(update) == 200
        return "\n".join(c.text for c in self.world.fake.sent(user_id)[before:])

    async def say(self, user_id: int, text: str) -> str:
        update = text_update(self.update_id + 1, user_id, text)
        if user_id == OWNER:
            update["message"]["from"]["language_code"] = self.language
        return await self._post(user_id, update)

    async def press(self, user_id: int, data: str) -> str:
        return await self._post(user_id, callback_update(self.update_id + 1, user_id, data))


async def _fill_campaign_form(page: Any) -> None:
    await page.fill("#name", "Weekday afternoons")
    await page.fill("#segment", "tea5")
    await page.fill("#message", shop.MESSAGE)
    await page.select_option("#offer", "buy_x_get_y")
    await page.fill("#value", "1-1")
    await page.fill("#dates", "7")
    await page.fill("#window", "mon-fri 14:00-16:00")
    await page.fill("#cost", "40")
    await page.fill("#holdout", "10")


async def _sign_in(page: Any, s: Script) -> None:
    link = re.search(r"http\S+/admin/signin/\S+", await s.say(OWNER, "/dashboard"))
    assert link is not None
    await page.goto(link.group(0))
    await page.click("button[type=submit]")
    await page.wait_for_url(re.compile(r"/admin/$"))


async def _build_segment(page: Any, language: str) -> None:
    """The flagship segment, counted live as the rule is typed (a mistake explained first)."""
    await page.click("a[href='/admin/segments']")
    await page.click("a[href='/admin/segments/new']")
    await page.fill("#name", "tea5")
    await page.type("#rule", "brnch in (asoke)")
    live = page.locator("#live-count.error")
    await live.wait_for()
    assert "branch" in await live.inner_text()
    await a_newer_rule_aborts_the_count_in_flight(
        page, "/admin/segments/count", "#live-count.ok", "visits >= 0", RULE, "26"
    )
    counted = page.locator("#live-count.ok")
    await counted.wait_for()
    assert "26" in await counted.inner_text()  # 30 members, 4 only at Siam
    await _screenshot(page, f"segment-new-{language}")
    await page.click("#segment-form button[type=submit]")
    row = page.locator("table.segments tbody tr", has_text="tea5")
    assert "26" in await row.locator(".size").inner_text()
    await _screenshot(page, f"segments-{language}")
    await row.locator("a").click()
    await page.wait_for_url(re.compile(r"/admin/segments/\d+$"))
    await page.locator("#live-count.ok").wait_for()  # the edit page counts the saved rule
    await _screenshot(page, f"segment-edit-{language}")


async def _create_preview_send(page: Any, base: str, language: str) -> int:
    """The wizard's steps on one form, the preview with a real member's message, the send."""
    await page.goto(f"{base}/admin/campaigns/new")
    await _fill_campaign_form(page)
    await _screenshot(page, f"campaign-new-{language}")
    await page.click("#save")
    await page.wait_for_url(re.compile(r"/admin/campaigns/\d+/preview$"))
    campaign_id = int(re.findall(r"/campaigns/(\d+)/", page.url)[0])
    preview = await page.locator("#preview").inner_text()
    sample = await page.locator("#sample").inner_text()
    await _screenshot(page, f"campaign-preview-{language}")
    await page.check("input[name=confirm]")
    await page.click("#send")
    await page.wait_for_url(re.compile(rf"/admin/campaigns/{campaign_id}/send$"))
    await page.locator("#notice").wait_for()
    assert await page.locator("#notice").count() == 1
    assert "คุณPloy" in sample
    assert "รับซื้อ 1 แถม 1" in sample
    assert "{name}" not in sample
    assert "10%" in preview
    return campaign_id


async def _members_respond(
    app: App, clock: FrozenClock, world: TelegramWorld, s: Script, campaign_id: int, members: Any
) -> int:
    """Members press, claim and buy through the webhooks; returns how many claimed."""
    recipients, holdout = shop.split(campaign_id, members)
    dispatcher = OutboxDispatcher(app.uow, app.clock, {Channel.TELEGRAM: world.channel})
    for _ in range(5):
        await dispatcher.drain_once()
    for member in recipients:
        assert len(world.fake.sent(int(member.user_id))) == 1
    claimers = recipients[:6]
    coupons = await shop.members_claim(app, s, claimers, campaign_id, lambda m: int(m.user_id))
    clock.advance(timedelta(days=1))
    await shop.cashier_records_visits(s, CASHIER, coupons, recipients, holdout)
    stats = await shop.stats_a_week_later(app, clock, campaign_id)
    assert stats.recipients.claimed == len(claimers)
    return len(claimers)


@pytest.mark.parametrize("language", ["th", "en"])
async def test_segment_campaign_and_its_results_in_the_browser(
    app: App, clock: FrozenClock, language: str
) -> None:
    members = await shop.build_shop(app, Channel.TELEGRAM, [str(5000 + n) for n in range(30)])
    await make_staff(app, str(OWNER), "owner")
    await make_staff(app, str(CASHIER), "cashier", branch_code="asoke")
    async with telegram_world(app) as world:
        base = str(world.client.make_url("")).rstrip("/")
        app.settings.public_url = base
        s = Script(world, language)
        async with playwright_api.async_playwright() as driver:
            browser = await driver.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            try:
                page = await browser.new_page(viewport=PHONE_WIDTH)
                await _sign_in(page, s)
                await _build_segment(page, language)
                campaign_id = await _create_preview_send(page, base, language)
                recipients, holdout = shop.split(campaign_id, members)
                claimed = await _members_respond(app, clock, world, s, campaign_id, members)

                # a week has passed: the session lapsed, a new link from the chat opens it again
                await _sign_in(page, s)
                await page.goto(f"{base}/admin/campaigns/{campaign_id}")
                results = await page.locator("#results").inner_text()
                assert f"{len(holdout)}" in results
                assert f"{len(recipients)}" in results
                assert "750" in results  # five recipients bought for 150 baht
                assert str(claimed) in results
                assert await page.locator("#chart svg").count() == 2
                await _screenshot(page, f"campaign-results-{language}")
                await page.click("a[href='/admin/campaigns']")
                listed = page.locator("table.campaigns tbody tr", has_text="Weekday afternoons")
                await listed.first.wait_for()  # the list page has loaded
                assert await listed.count() == 1
                await _screenshot(page, f"campaigns-{language}")
            finally:
                await browser.close()
