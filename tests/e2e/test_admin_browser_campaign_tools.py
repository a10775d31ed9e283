"""The campaign form's live preview in a real headless Chromium: as the owner types the message,
the server renders it for a real member (a Thai name with emoji) and the page shows it; a typo
in a placeholder shows the chat's message; then the draft's preview sends a test to the
owner's own chat and sizes the hold-out for a target; the settings page shows the automations'
messages. Screenshots 390 px wide, in Thai and English, go to ``$CHATCRM_TEST_OUTPUT/console``."""

from __future__ import annotations

import re
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from bot.bootstrap import App
from bot.i18n import t
from bot.web import build_web_app
from tests.e2e.test_admin_browser import (
    CHROMIUM,
    OUTPUT,
    PHONE_WIDTH,
    _said,
    _screenshot,
    playwright_api,
)
from tests.unit.sales_support import queued
from tests.unit.staff_support import make_member, staff_chat

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(CHROMIUM is None, reason="no system Chromium (./dev setup)"),
]

NAME = "พลอย 🌸"


async def _type_and_watch(page: Any, language: str) -> None:
    """Keystrokes in the message box; the preview follows them."""
    await page.fill("#name", "Tea time")
    await page.fill("#segment", "home_branch = asoke")
    await page.type("#message", "สวัสดีคุณ{name}", delay=20)
    await page.locator("#live-preview-text", has_text=f"สวัสดีคุณ{NAME}").wait_for()
    await page.type("#message", " {nmae}", delay=20)
    refused = page.locator("#live-preview-heading.error")
    await refused.wait_for()
    assert "{nmae}" in await refused.inner_text()
    await _screenshot(page, f"campaign-live-preview-typo-{language}")
    await page.fill("#message", "สวัสดีคุณ{name} มี {points} แต้ม")
    await page.locator("#live-preview-text", has_text="มี 250 แต้ม").wait_for()
    heading = await page.locator("#live-preview-heading").inner_text()
    assert heading == t(language, "campaign.sample", name=NAME)
    await _screenshot(page, f"campaign-live-preview-{language}")


async def _test_and_size(page: Any, app: App, language: str) -> None:
    await page.click("#save")
    await page.wait_for_url(re.compile(r"/admin/campaigns/\d+/preview$"))
    await page.click("#test-send")
    await page.wait_for_url(re.compile(r"/preview\?done=tested$"))
    assert await page.locator("#notice").inner_text() == t(
        language, "admin_campaign_tools.done_tested"
    )
    [test] = await queued(app, "campaign-test:")
    assert test.user_id == "o1"
    await page.fill("#target", "30")
    await page.click("#size-holdout")
    await page.locator("#holdout-answer").wait_for()
    assert await page.locator("#detectable").inner_text()
    await _screenshot(page, f"campaign-preview-tools-{language}")


@pytest.mark.parametrize("language", ["th", "en"])
async def test_the_message_previews_live_as_it_is_typed(app: App, language: str) -> None:
    await make_member(app, NAME, "0812345678", home_branch_code="asoke", points=250)
    owner = await staff_chat(app, "o1", "owner", language_code=language)
    server = TestServer(build_web_app(app, []), host="127.0.0.1")
    await server.start_server()
    app.settings.public_url = base = str(server.make_url("")).rstrip("/")
    try:
        async with playwright_api.async_playwright() as driver:
            browser = await driver.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            try:
                page = await browser.new_page(viewport=PHONE_WIDTH)
                link = re.search(r"http\S+/admin/signin/\S+", await _said(owner))
                assert link is not None
                await page.goto(link.group(0))
                await page.click("button[type=submit]")
                await page.wait_for_url(re.compile(r"/admin/$"))
                await page.goto(f"{base}/admin/campaigns/new")
                await _type_and_watch(page, language)
                await _test_and_size(page, app, language)
                await page.goto(f"{base}/admin/settings#automations")
                shown = await page.locator("#auto-preview-birthday-th").inner_text()
                assert NAME in shown
                await page.locator("#auto-preview-birthday").screenshot(
                    path=_output(f"settings-automation-preview-{language}")
                )
            finally:
                await browser.close()
    finally:
        await server.close()


def _output(name: str) -> str:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    return str(OUTPUT / f"{name}.png")
