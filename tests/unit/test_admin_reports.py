"""The overview's charts (lifecycle groups, tiers, revenue per day over 7/30/90 days) and the
Reports page (branch × weekday × hour, sales by branch and day, automations' results), with
their branch scope and refusals."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

from bot.admin import svg
from bot.bootstrap import App
from storage.models import Campaign, Sale
from storage.raw_session import session_of
from tests.unit.admin_support import console_client, signed_in
from tests.unit.staff_support import audit_rows, ensure_branches, make_member, staff_chat


async def _sale(app: App, member_id: int, branch_code: str, days_ago: int, amount: str) -> None:
    async with app.uow() as uow:
        branch = await uow.branches.by_code(branch_code)
        assert branch is not None
        session_of(uow).add(
            Sale(
                receipt_no=f"r-{member_id}-{branch_code}-{days_ago}",
                member_id=member_id,
                branch_id=branch.id,
                amount=Decimal(amount),
                occurred_at=app.clock.now() - timedelta(days=days_ago),
            )
        )
        await uow.commit()


async def _shop(app: App) -> None:
    await ensure_branches(app, ("asoke", "ratchada"))
    ploy = await make_member(app, "Ploy", "081-111-1111", home_branch_code="asoke")
    nok = await make_member(app, "Nok", "081-222-2222", home_branch_code="ratchada")
    await _sale(app, ploy.id, "asoke", 1, "120.00")
    await _sale(app, nok.id, "ratchada", 2, "80.00")
    await _sale(app, nok.id, "ratchada", 60, "4500.00")


def _bar_values(page: str) -> list[str]:
    return re.findall(r'y="\d+">([^<]+)</text>', page)


async def test_the_overview_draws_groups_tiers_and_days_in_svg(app: App) -> None:
    await _shop(app)
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    async with console_client(app) as client:
        browser = await signed_in(client, owner)
        month = await (await browser.get("/admin/")).text()
        week = await (await browser.get("/admin/?days=7")).text()
        nonsense = await (await browser.get("/admin/?days=3650")).text()
    assert month.count("<svg") == 3
    assert "Members by lifecycle group" in month
    assert "Members by tier" in month
    assert "Revenue per day, last 30 days (THB)" in month
    assert "Revenue per day, last 7 days (THB)" in week
    assert "Revenue per day, last 30 days (THB)" in nonsense  # not a window: the default
    assert month.count('class="bar" x=') - week.count('class="bar" x=') == 23  # 30 days vs 7
    assert "new" in _bar_values(month)
    assert " style=" not in month


async def test_a_thai_owner_reads_the_charts_in_thai(app: App) -> None:
    await _shop(app)
    owner = await staff_chat(app, "o1", "owner", language_code="th")
    async with console_client(app) as client:
        browser = await signed_in(client, owner)
        page = await (await browser.get("/admin/reports")).text()
        overview = await (await browser.get("/admin/")).text()
    assert "สมาชิกตามระดับ" in overview
    assert "ยอดขายตามวันในสัปดาห์และชั่วโมง" in page
    assert ">จ.</text>" in page


async def test_the_reports_page_has_the_heat_map_sales_by_day_and_is_audited(app: App) -> None:
    await _shop(app)
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    async with console_client(app) as client:
        browser = await signed_in(client, owner)
        response = await browser.get("/admin/reports")
        page = await response.text()
        quarter = await (await browser.get("/admin/reports?days=90")).text()
    assert response.status == 200
    assert page.count('class="chart heat"') == 2  # one week-by-hour map per branch
    assert "Asoke" in page
    assert "Ratchada" in page
    assert "<td>฿80</td>" in page  # ratchada's 30 days: the sale 60 days ago is outside
    assert "<td>฿4,580</td>" in quarter
    assert "No automation has run yet." in page
    viewed = await audit_rows(app, "console.reports_viewed")
    assert [entry.details for entry in viewed] == [{"days": 30}, {"days": 90}]


async def test_a_manager_s_reports_and_charts_are_their_branch_only(app: App) -> None:
    await _shop(app)
    manager = await staff_chat(app, "m1", "manager", branch_code="asoke", language_code="en")
    async with console_client(app) as client:
        browser = await signed_in(client, manager)
        page = await (await browser.get("/admin/reports?days=90")).text()
        overview = await (await browser.get("/admin/")).text()
    assert page.count('class="chart heat"') == 1
    assert "Ratchada" not in page
    assert "4,500" not in page
    assert "Ratchada" not in overview
    groups = re.search(r"Members by lifecycle group</title>(.*?)</svg>", overview)
    assert groups is not None
    counts = [int(n) for n in re.findall(r'">(\d+)</text>', groups.group(1))]
    assert sum(counts) == 1  # Ploy only, not Nok


async def test_the_automations_results_are_the_stats_of_their_runs(app: App) -> None:
    await _shop(app)
    async with app.uow() as uow:
        session_of(uow).add(
            Campaign(
                name="birthday 2026-03",
                kind="automation:birthday",
                period_key="2026-03",
                segment_name="birthday",
                rule="birth_month = 3",
                message="Happy birthday",
                status="sending",
                started_at=app.clock.now(),
                created_by="system",
                created_at=app.clock.now(),
            )
        )
        await uow.commit()
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    async with console_client(app) as client:
        browser = await signed_in(client, owner)
        page = await (await browser.get("/admin/reports")).text()
    assert "No automation has run yet." not in page
    # nobody enrolled yet: the visit rate of nobody is undefined, a dash (not 0.0%)
    assert re.search(r"<td>[^<]*2026-03</td><td>0</td><td>—</td>", page), page


async def test_reports_need_a_session(app: App) -> None:
    async with console_client(app) as client:
        response = await client.get("/admin/reports")
        assert response.status == 401
        assert "<svg" not in await response.text()


def test_chart_text_is_escaped() -> None:
    drawn = svg.bars([("<b>x</b>", 3.0, "3")], "a & b")
    assert "<b>" not in drawn
    assert "&lt;b&gt;x&lt;/b&gt;" in drawn
    assert "a &amp; b" in drawn
    heat = svg.heat([[0] * 24 for _ in range(7)], list("MTWTFSS"), "t")
    assert heat.count("<rect") == 7 * 24
