"""The web console in a real headless Chromium (the system's, from the OS packages), driven by
Playwright: sign in from the link the chat sends, find a member by a phone typed in another
format, and a manager refused another branch's member but shown the settings (nothing to
press), then signed out. Screenshots of each page, 390 px wide,
in Thai and English, go to ``$CHATCRM_TEST_OUTPUT/console`` (default ``test-output/``)."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from bot.bootstrap import App
from bot.web import build_web_app
from tests.unit.admin_support import ask_link
from tests.unit.staff_support import make_member, staff_chat

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
playwright_api = pytest.importorskip(
    "playwright.async_api", reason="Playwright for Python is not installed (./dev setup)"
)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no system Chromium: apt-get install chromium (./dev setup)"
)

PHONE_WIDTH = {"width": 390, "height": 844}
OUTPUT = Path(os.environ.get("CHATCRM_TEST_OUTPUT", "test-output")) / "console"


async def _screenshot(page: object, name: str) -> None:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(OUTPUT / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]


@pytest.mark.parametrize("language", ["th", "en"])
async def test_sign_in_from_the_chat_and_find_a_member_by_phone(app: App, language: str) -> None:
    await make_member(app, "Ploy", "0812345678", home_branch_code="asoke", points=120)
    await make_member(app, "Nok", "0898765432", home_branch_code="ratchada")
    owner = await staff_chat(app, "o1", "owner", language_code=language)
    manager = await staff_chat(app, "m1", "manager", branch_code="asoke", language_code=language)
    server = TestServer(build_web_app(app, []), host="127.0.0.1")
    await server.start_server()
    app.settings.public_url = str(server.make_url("")).rstrip("/")
    try:
        async with playwright_api.async_playwright() as driver:
            browser = await driver.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            try:
                page = await browser.new_page(viewport=PHONE_WIDTH)
                link = re.search(r"http\S+/admin/signin/\S+", await _said(owner))
                assert link is not None
                await page.goto(link.group(0))
                await _screenshot(page, f"signin-{language}")
                await page.click("button[type=submit]")
                await page.wait_for_url(re.compile(r"/admin/$"))
                await _screenshot(page, f"overview-{language}")
                await page.click("a[href='/admin/members']")
                await page.fill("#q", "+66 81-234-5678")
                await page.click("form.search button[type=submit]")
                rows = page.locator("table.members tbody tr")
                await rows.first.wait_for()  # the result page has loaded
                assert await rows.count() == 1
                assert "Ploy" in await rows.first.inner_text()
                await _screenshot(page, f"members-{language}")
                await rows.first.locator("a").click()
                assert await page.locator("#points").inner_text() == "120"
                await _screenshot(page, f"member-{language}")

                other = await browser.new_page(viewport=PHONE_WIDTH)
                await _a_branch_manager(app, other, await _said(manager), language)
            finally:
                await browser.close()
    finally:
        await server.close()


async def _a_branch_manager(app: App, page: Any, said: str, language: str) -> None:
    """Another branch's member is refused to a manager of one branch; the settings are shown
    with nothing to press; signing out ends the session."""
    link = re.search(r"http\S+/admin/signin/\S+", said)
    assert link is not None
    await page.goto(link.group(0))
    await page.click("button[type=submit]")
    await page.wait_for_url(re.compile(r"/admin/$"))
    nok = await _member_id(app, "0898765432")
    answer = await page.goto(f"{app.settings.public_url}/admin/members/{nok}")
    assert answer is not None
    assert answer.status == 404
    assert "Nok" not in await page.content()
    await _screenshot(page, f"refused-{language}")
    await page.click("a[href='/admin/settings']")
    await page.locator("#read-only").wait_for()
    assert await page.locator("main form, main input, main button").count() == 0
    assert await page.locator("#quiet").inner_text() == "21:00-09:00"
    await _screenshot(page, f"settings-manager-{language}")
    await page.click("header form button[type=submit]")
    await page.wait_for_url(re.compile(r"/admin/signedout$"))
    await _screenshot(page, f"signedout-{language}")


async def _said(chat: object) -> str:
    await ask_link(chat)  # type: ignore[arg-type]
    return chat.text()  # type: ignore[attr-defined,no-any-return]


async def _member_id(app: App, phone: str) -> int:
    from shop.inputs import parse_phone

    async with app.uow() as uow:
        member = await uow.members.by_phone(parse_phone(phone))
        assert member is not None
        return member.id
