"""The console on a shop owner's phone, in a real headless Chromium (the system's) emulating a
phone (360×640 and 390×844, device scale 2, touch), as opened from the chat's sign-in link: every
page an owner reaches, in a shop with 55 members with long Thai names and emoji, a customer's
thread, a sent campaign with its chart, is checked from outside: the page itself never scrolls
sideways (a wide table may scroll in its own box), buttons and links are big enough to tap or
spaced apart, no text is cut off, form fields sit inside the screen and charts fit."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from bot.bootstrap import App
from bot.core.messages import Channel
from jobs.dispatcher import OutboxDispatcher
from simulator.fakes.telegram_updates import text_update
from storage.models import Sale
from storage.raw_session import session_of
from tests.e2e.telegram_world import telegram_world
from tests.e2e.test_admin_browser import CHROMIUM, playwright_api
from tests.e2e.test_admin_browser_campaigns import OWNER, Script
from tests.unit.staff_support import ensure_branches, make_member, make_staff

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(CHROMIUM is None, reason="no system Chromium (./dev setup)"),
]

PHONES = {360: {"width": 360, "height": 640}, 390: {"width": 390, "height": 844}}
CUSTOMER = 6000
#: long Thai first names and surnames, with emoji, as members type them at sign-up
NAMES = (
    "พลอยไพลินประภัสสร 🌸",
    "ณัฐวุฒิเจริญรุ่งเรืองกิจ 🍵",
    "กาญจนาภรณ์ศรีสุวรรณวงศ์ ✨",
    "ธนพัฒน์วรวิทย์ธำรงค์ 🧋",
    "Supattra Wongsakulchai-Rattanaporn 😊",
)
BRANCHES = ("asoke", "sukhumvit", "phetchaburi", "ratchada", "dindaeng")
LONG_WORDS = "ขอสอบถามโปรโมชั่นชานมไข่มุกบราวน์ชูการ์ซื้อหนึ่งแถมหนึ่งใช้ได้ทุกสาขาไหมคะ🧋🙏"

#: the complaints each have a test of their own
APART = ("too small to tap", "chart label too small to read")
#: what a phone user cannot live with, measured in the page; a list of complaints
CHECK = """() => {
  const W = window.innerWidth, out = [];
  const name = (e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
    (e.className && typeof e.className === 'string' ? '.' + e.className.split(' ').join('.') : '') +
    ' "' + (e.innerText || e.value || '').trim().slice(0, 30) + '"';
  const shown = (e) => { const r = e.getBoundingClientRect(), s = getComputedStyle(e);
    return r.width > 0 && r.height > 0 && s.visibility !== 'hidden'; };
  const scroller = (e) => { for (let p = e.parentElement; p; p = p.parentElement) {
    const o = getComputedStyle(p).overflowX; if (o === 'auto' || o === 'scroll') return p; }
    return null; };
  if (document.documentElement.scrollWidth > W)
    out.push('page scrolls sideways: ' + document.documentElement.scrollWidth + ' > ' + W);
  for (const e of document.querySelectorAll('body *')) {
    if (!shown(e) || scroller(e)) continue;
    const r = e.getBoundingClientRect();
    if (r.right > W + 1 || r.left < -1) out.push('off screen: ' + name(e));
    const s = getComputedStyle(e);
    if ((s.overflowX === 'hidden' || s.overflowX === 'clip') && e.scrollWidth > e.clientWidth + 1)
      out.push('text cut off: ' + name(e));
  }
  const targets = [...document.querySelectorAll(
    'a[href], button, select, textarea, summary, ' +
    'input:not([type=hidden]):not([type=checkbox]):not([type=radio])'
  )].filter(shown);
  const boxes = targets.map((e) => e.getBoundingClientRect());
  targets.forEach((e, i) => {
    const r = boxes[i];
    if (r.height >= 40) return;
    const close = boxes.some((o, j) => j !== i &&
      o.left < r.right + 8 && o.right > r.left - 8 && o.top < r.bottom + 8 && o.bottom > r.top - 8);
    if (close || r.height < 24)
      out.push('too small to tap (' + Math.round(r.height) + ' px): ' + name(e));
  });
  for (const e of document.querySelectorAll('input, select, textarea')) {
    if (!shown(e)) continue;
    const r = e.getBoundingClientRect();
    if (r.right > W + 1 || r.left < -1 || scroller(e))
      out.push('field outside the screen: ' + name(e));
  }
  for (const svg of document.querySelectorAll('svg')) {
    const r = svg.getBoundingClientRect();
    if (r.right > W + 1 || scroller(svg))
      out.push('chart does not fit: ' + name(svg.parentElement));
    const box = svg.viewBox.baseVal, scale = box && box.width ? r.width / box.width : 1;
    const labels = [...svg.querySelectorAll('text')].filter((t) => t.textContent.trim());
    const small = labels.find((t) => parseFloat(getComputedStyle(t).fontSize) * scale < 10);
    if (small) out.push('chart label too small to read: ' + small.textContent.slice(0, 20));
    const rects = labels.map((t) => t.getBoundingClientRect());
    if (rects.some((a, i) => rects.some((b, j) => j > i && a.left < b.right - 1 &&
        b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1)))
      out.push('chart labels overlap: ' + name(svg.parentElement));
    const clip = getComputedStyle(svg).overflow === 'visible' ?
      svg.parentElement.getBoundingClientRect() : r;
    if (rects.some((a) => a.left < clip.left - 1 || a.right > clip.right + 1 ||
        a.top < clip.top - 1 || a.bottom > clip.bottom + 1))
      out.push('chart label cut off: ' + name(svg.parentElement));
  }
  return [...new Set(out)];
}"""


async def _shop(app: App) -> None:
    """55 members on Telegram, each with a few sales over the last 60 days at their branch."""
    branches = await ensure_branches(app, BRANCHES)
    for n in range(55):
        name = f"{NAMES[n % len(NAMES)]} {n}"
        member = await make_member(
            app,
            name,
            f"081{n:07d}",
            user_id=str(CUSTOMER + n),
            channel=Channel.TELEGRAM,
            locale="th",
            home_branch_code=BRANCHES[n % len(BRANCHES)],
            points=n * 37,
        )
        async with app.uow() as uow:
            for k in range(n % 4 + 1):
                session_of(uow).add(
                    Sale(
                        receipt_no=f"PH-{n}-{k}",
                        member_id=member.id,
                        branch_id=branches[BRANCHES[n % len(BRANCHES)]],
                        amount=Decimal(95 + 35 * k + n),
                        occurred_at=app.clock.now()
                        - timedelta(days=(n * 7 + k * 11) % 60, hours=k),
                    )
                )
            await uow.commit()
    await make_staff(app, str(OWNER), "owner")
    for n, branch in enumerate(BRANCHES):
        await make_staff(app, str(800 + n), "manager", branch_code=branch)


async def _pages(page: Any, base: str, s: Script) -> dict[str, str]:
    """Sign in, make a segment and a sent campaign; returns every page's name → its address."""
    link = re.search(r"http\S+/admin/signin/\S+", await s.say(OWNER, "/dashboard"))
    assert link is not None
    await page.goto(link.group(0))
    await page.click("button[type=submit]")
    await page.wait_for_url(re.compile(r"/admin/$"))
    await page.goto(f"{base}/admin/segments/new")
    await page.fill("#name", "ลูกค้าประจำสาขาอโศกและสุขุมวิท")
    await page.fill("#rule", "branch in (asoke, sukhumvit)")
    await page.click("#segment-form button[type=submit]")
    segment = await page.locator("table.segments tbody tr a").first.get_attribute("href")
    await page.goto(f"{base}/admin/campaigns/new")
    await page.fill("#name", "โปรชานมไข่มุกบ่ายวันธรรมดา 🧋")
    await page.fill("#segment", "ลูกค้าประจำสาขาอโศกและสุขุมวิท")
    await page.fill("#message", "สวัสดีคุณ{name} 🌸 " + LONG_WORDS)
    await page.select_option("#offer", "buy_x_get_y")
    await page.fill("#value", "1-1")
    await page.fill("#dates", "7")
    await page.fill("#holdout", "10")
    await page.click("#save")
    await page.wait_for_url(re.compile(r"/admin/campaigns/\d+/preview$"))
    preview = page.url
    await page.check("input[name=confirm]")
    await page.click("#send")
    await page.locator("#notice").wait_for()
    results = preview.removesuffix("/preview")
    await page.goto(f"{base}/admin/inbox")
    thread = await page.locator("table.threads tbody tr a").first.get_attribute("href")
    await page.goto(f"{base}/admin/members")
    member = await page.locator("table.members tbody tr a").first.get_attribute("href")
    return {
        "overview": f"{base}/admin/",
        "members": f"{base}/admin/members",
        "member": f"{base}{member}",
        "inbox": f"{base}/admin/inbox",
        "thread": f"{base}{thread}",
        "campaigns": f"{base}/admin/campaigns",
        "campaign-new": f"{base}/admin/campaigns/new",
        "preview": preview,
        "results": results,
        "segments": f"{base}/admin/segments",
        "segment": f"{base}{segment}",
        "reports": f"{base}/admin/reports",
        "settings": f"{base}/admin/settings",
        "staff": f"{base}/admin/staff",
    }


async def _complaints(app: App, language: str, width: int) -> dict[str, list[str]]:
    """Every page an owner reaches, checked on a ``width``-px phone: page name → complaints."""
    await _shop(app)
    async with telegram_world(app) as world:
        base = str(world.client.make_url("")).rstrip("/")
        app.settings.public_url = base
        for n in range(3):
            words = f"{LONG_WORDS} ({n}) https://example.com/menu/brown-sugar-boba-large-size"
            assert await world.post(text_update(30_000 + n, CUSTOMER + n, words)) == 200
        async with playwright_api.async_playwright() as driver:
            browser = await driver.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            try:
                context = await browser.new_context(
                    viewport=PHONES[width], device_scale_factor=2, is_mobile=True, has_touch=True
                )
                page = await context.new_page()
                pages = await _pages(page, base, Script(world, language))
                dispatcher = OutboxDispatcher(app.uow, app.clock, {Channel.TELEGRAM: world.channel})
                await dispatcher.drain_once()
                complaints: dict[str, list[str]] = {}
                for name, address in pages.items():
                    await page.goto(address)
                    complaints[name] = await page.evaluate(CHECK)
                await page.goto(pages["results"])
                assert await page.locator("#chart svg").count() >= 1
                return complaints
            finally:
                await browser.close()


@pytest.mark.parametrize(
    ("language", "width"), [("th", 360), ("en", 360), ("th", 390), ("en", 390)]
)
async def test_no_page_scrolls_sideways_or_cuts_text_fields_or_charts(
    app: App, language: str, width: int
) -> None:
    complaints = await _complaints(app, language, width)
    layout = {
        page: [c for c in found if not c.startswith(APART)] for page, found in complaints.items()
    }
    assert {page: found for page, found in layout.items() if found} == {}


@pytest.mark.parametrize(("language", "width"), [("th", 360), ("en", 360)])
async def test_chart_labels_are_big_enough_to_read(app: App, language: str, width: int) -> None:
    complaints = await _complaints(app, language, width)
    labels = {
        page: [c for c in found if "too small to read" in c] for page, found in complaints.items()
    }
    assert {page: found for page, found in labels.items() if found} == {}


@pytest.mark.parametrize(("language", "width"), [("th", 360), ("en", 390)])
async def test_every_button_and_link_is_big_enough_to_tap(
    app: App, language: str, width: int
) -> None:
    complaints = await _complaints(app, language, width)
    taps = {page: [c for c in found if "to tap" in c] for page, found in complaints.items()}
    assert {page: found for page, found in taps.items() if found} == {}
