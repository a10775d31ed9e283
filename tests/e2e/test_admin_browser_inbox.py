"""The console's inbox, staff and settings pages in a real headless Chromium (the system's),
driven by Playwright: a customer writes on Telegram (the webhook, the fake Bot API), the owner
answers in the console, and the answer arrives on the customer's Telegram chat through the
outbox. Screenshots of each page, 390 px wide, in Thai and English, go to
``$CHATCRM_TEST_OUTPUT/console`` (default ``test-output/``)."""

from __future__ import annotations

import itertools
import re

import pytest

from bot.bootstrap import App
from bot.core.messages import Channel
from jobs.dispatcher import OutboxDispatcher
from simulator.fakes.telegram_updates import text_update
from tests.e2e.telegram_world import telegram_world
from tests.e2e.test_admin_browser import CHROMIUM, PHONE_WIDTH, _said, _screenshot
from tests.unit.staff_support import make_member, staff_chat

playwright_api = pytest.importorskip(
    "playwright.async_api", reason="Playwright for Python is not installed (./dev setup)"
)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no system Chromium: apt-get install chromium (./dev setup)"
)

CUSTOMER = 7790002
_updates = itertools.count(19000)


@pytest.mark.parametrize("language", ["th", "en"])
async def test_an_answer_typed_in_the_console_arrives_on_the_customers_telegram(
    app: App, language: str
) -> None:
    await make_member(
        app, "Ploy", "0812345678", user_id=str(CUSTOMER), channel=Channel.TELEGRAM, locale="en"
    )
    owner = await staff_chat(app, "o1", "owner", language_code=language)
    await staff_chat(app, "c1", "cashier", language_code=language, name="Nok")
    async with telegram_world(app) as world:
        question = text_update(next(_updates), CUSTOMER, "Are you open on Sunday?")
        assert await world.post(question) == 200
        app.settings.public_url = str(world.client.make_url("")).rstrip("/")
        async with playwright_api.async_playwright() as driver:
            browser = await driver.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            try:
                page = await browser.new_page(viewport=PHONE_WIDTH)
                link = re.search(r"http\S+/admin/signin/\S+", await _said(owner))
                assert link is not None
                await page.goto(link.group(0))
                await page.click("button[type=submit]")
                await page.wait_for_url(re.compile(r"/admin/$"))
                await page.click("a[href='/admin/inbox']")
                await _screenshot(page, f"inbox-{language}")
                await page.locator("table.threads tbody tr a").first.click()
                assert "Are you open on Sunday?" in await page.locator("ol.thread").inner_text()
                await page.fill("#text", "Yes, 10:00–20:00 🙂")
                await page.click("form[action$='/reply'] button[type=submit]")
                await page.wait_for_url(re.compile(r"done=sent"))
                await _screenshot(page, f"inbox-thread-{language}")
                await page.click("a[href='/admin/staff']")
                await page.click("form[action='/admin/staff/invite'] button[type=submit]")
                assert (await page.locator("#claim").inner_text()).startswith("/claim ")
                await _screenshot(page, f"staff-{language}")
                await page.locator("a[href$='/remove']").first.click()
                await _screenshot(page, f"staff-remove-{language}")
                await page.click("a[href='/admin/staff']")
                await page.click("a[href='/admin/settings']")
                await page.fill("#quiet", "22:30-07:00")
                await page.click("form:has(#quiet) button[type=submit]")
                await page.wait_for_url(re.compile(r"done=saved"))
                assert await page.input_value("#quiet") == "22:30-07:00"
                await _screenshot(page, f"settings-{language}")
                await page.fill("#life-new_days", "45")
                await page.click("form:has(#life-new_days) button[type=submit]")
                await _screenshot(page, f"settings-lifecycle-{language}")
                await page.click("#save-lifecycle")
                await page.wait_for_url(re.compile(r"done=saved"))
                assert await page.input_value("#life-new_days") == "45"
            finally:
                await browser.close()
        dispatcher = OutboxDispatcher(app.uow, app.clock, {Channel.TELEGRAM: world.channel})
        await dispatcher.drain_once()
        arrived = [call.text for call in world.fake.sent(CUSTOMER)]
        assert any("Yes, 10:00–20:00 🙂" in text for text in arrived), arrived
