"""The console's members filter, member page edits, overview charts and Reports page in a
real headless Chromium (the system's), driven by Playwright: type a segment rule and watch
the live count change (the page's static script asking the JSON count), see the chat's
message for a broken rule, filter, tag a member, open the reports. Screenshots 390 px wide,
in Thai and English, go to ``$CHATCRM_TEST_OUTPUT/console`` (default ``test-output/``)."""

from __future__ import annotations

import asyncio
import re
from contextlib import suppress
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from bot.bootstrap import App
from bot.web import build_web_app
from storage.models import Sale
from storage.raw_session import session_of
from tests.e2e.test_admin_browser import CHROMIUM, PHONE_WIDTH, _said, _screenshot
from tests.unit.staff_support import make_member, staff_chat

playwright_api = pytest.importorskip(
    "playwright.async_api", reason="Playwright for Python is not installed (./dev setup)"
)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no system Chromium: apt-get install chromium (./dev setup)"
)


async def _shop(app: App) -> int:
    ploy = await make_member(app, "Ploy", "0812345678", home_branch_code="asoke", points=300)
    nok = await make_member(app, "Nok", "0898765432", home_branch_code="ratchada", points=20)
    await make_member(app, "Fah", "0861112222", home_branch_code="asoke", points=900)
    async with app.uow() as uow:
        for n, (member, code) in enumerate(((ploy, "asoke"), (nok, "ratchada"))):
            branch = await uow.branches.by_code(code)
            assert branch is not None
            session_of(uow).add(
                Sale(
                    receipt_no=f"e2e-{n}",
                    member_id=member.id,
                    branch_id=branch.id,
                    amount=Decimal("150.00"),
                    occurred_at=app.clock.now() - timedelta(days=n + 1, hours=n * 5),
                )
            )
        await uow.commit()
    return ploy.id


@pytest.mark.parametrize("language", ["th", "en"])
async def test_filter_by_a_rule_with_a_live_count_and_open_the_reports(
    app: App, language: str
) -> None:
    ploy = await _shop(app)
    owner = await staff_chat(app, "o1", "owner", language_code=language)
    server = TestServer(build_web_app(app, []), host="127.0.0.1")
    await server.start_server()
    app.settings.public_url = str(server.make_url("")).rstrip("/")
    try:
        async with playwright_api.async_playwright() as driver:
            browser = await driver.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            try:
                page = await browser.new_page(viewport=PHONE_WIDTH)
                errors: list[str] = []
                # script errors only (a rule's 400 answer and /favicon.ico's 404 are expected)
                page.on("pageerror", lambda error: errors.append(str(error)))
                link = re.search(r"http\S+/admin/signin/\S+", await _said(owner))
                assert link is not None
                await page.goto(link.group(0))
                await page.click("button[type=submit]")
                await page.wait_for_url(re.compile(r"/admin/$"))
                assert await _loaded_count(page.locator("#overview-charts svg")) == 3
                await _screenshot(page, f"overview-charts-{language}")

                await _filter_members(page, language)
                await page.goto(f"{app.settings.public_url}/admin/members/{ploy}")
                await page.fill("#tags", "+vip")
                await page.click("form[action$='/tags'] button")
                await page.wait_for_url(re.compile(rf"/admin/members/{ploy}$"))
                assert await page.locator("span.tag", has_text="vip").count() == 1
                await _screenshot(page, f"member-extras-{language}")

                await page.click("a[href='/admin/reports']")
                assert await _loaded_count(page.locator("figure.heat svg")) == 2
                await page.click("a[href='/admin/reports?days=90']")
                await page.wait_for_url(re.compile(r"days=90$"))
                await _screenshot(page, f"reports-{language}")
                assert errors == []
            finally:
                await browser.close()
    finally:
        await server.close()


async def _filter_members(page: Any, language: str) -> None:
    """Type rules and watch the live count (a mistake explained), then filter by one."""
    await page.click("a[href='/admin/members']")
    count = page.locator("#rule-count")
    await page.fill("#rule", "points >= 100")
    await playwright_api.expect(count).to_contain_text("2")
    # shown "2" until the newer rule's answer: the held count of 3 never shows
    await a_newer_rule_aborts_the_count_in_flight(
        page, "/admin/members/count", "#rule-count", "points >= 0", "points >= 500", "1"
    )
    await page.fill("#rule", "pionts >= 1")
    await playwright_api.expect(count).to_contain_text("pionts")
    await playwright_api.expect(count).to_have_class(re.compile("error"))
    await _screenshot(page, f"members-filter-error-{language}")
    await page.fill("#rule", "points >= 100")
    await playwright_api.expect(count).to_contain_text("2")
    await page.click("form.rule-filter button:not(.secondary)")
    rows = page.locator("table.members tbody tr")
    assert await _loaded_count(rows) == 2
    assert "Nok" not in await page.locator("table.members").inner_text()
    await _screenshot(page, f"members-filtered-{language}")


async def a_newer_rule_aborts_the_count_in_flight(
    page: Any, count_url: str, out: str, held: str, rule: str, expected: str
) -> None:
    """A count held back by a slow network (``held``'s) is aborted by the next rule typed,
    and its answer never shows over the newer rule's count (``expected`` in ``out``)."""
    first, release = asyncio.Event(), asyncio.Event()
    aborted: list[str] = []

    async def slow_network(route: Any) -> None:
        if not first.is_set():  # the first count asked: answered only after the second
            first.set()
            await release.wait()
        with suppress(playwright_api.Error):  # the page aborted it meanwhile
            await route.continue_()

    def failed(request: Any) -> None:
        aborted.append(request.failure or "")

    page.on("requestfailed", failed)
    await page.route(f"**{count_url}", slow_network)
    await page.fill("#rule", held)
    await first.wait()
    await page.fill("#rule", rule)
    await playwright_api.expect(page.locator(out)).to_contain_text(expected)
    release.set()
    await page.unroute(f"**{count_url}")
    page.remove_listener("requestfailed", failed)
    assert aborted == ["net::ERR_ABORTED"]
    assert expected in await page.locator(out).inner_text()


async def _loaded_count(found: Any) -> int:
    """How many ``found`` matches once the page a click opened has shown the first of them."""
    await found.first.wait_for()
    return int(await found.count())
