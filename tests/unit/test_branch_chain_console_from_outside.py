"""A chain of branches in the web console, from outside (real HTTP): a branch manager's
numbers agree with the owner's branch table, and another branch's members, threads and staff
stay out of reach also when their ids are typed into the address bar.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import func, select

from bot.bootstrap import App
from bot.core.clock import FrozenClock
from bot.i18n import t
from storage.models import StaffInvite
from storage.raw_session import session_of
from tests.unit.admin_support import Browser, console_client, signed_in
from tests.unit.inbox_support import add_sale, threads
from tests.unit.staff_support import make_member, make_staff, member_chat, staff_chat

_ROW = "<tr><th>{label}</th><td>([\\d,]+)</td>"


def first_window(html: str, key: str) -> int:
    """The figure of the overview's row ``key`` for its shortest window (the last 7 days)."""
    found = re.search(_ROW.format(label=re.escape(t("en", key))), html)
    assert found is not None, html
    return int(found.group(1).replace(",", ""))


def windows(html: str, key: str) -> list[str]:
    """Every window's figure of the overview's row ``key`` (7, 30 and 90 days), as shown."""
    row = re.search(rf"<tr><th>{re.escape(t('en', key))}</th>(.*?)</tr>", html)
    assert row is not None, html
    return re.findall(r"<td>([^<]*)</td>", row.group(1))


def branch_table(html: str) -> dict[str, int]:
    """The overview's sales per branch: English name → number of sales."""
    rows = re.findall(r"<tr><td>([^<]+)</td><td>([\d,]+)</td><td>", html)
    return {name: int(n.replace(",", "")) for name, n in rows}


async def _overview(browser: Browser) -> str:
    response = await browser.get("/admin/")
    assert response.status == 200
    return await response.text()


async def test_each_branch_manager_sees_the_owner_s_row_of_their_branch(
    app: App, clock: FrozenClock
) -> None:
    owner = await staff_chat(app, "own", "owner", language_code="en")
    managers = {
        "Asoke": await staff_chat(app, "ma", "manager", "asoke", language_code="en"),
        "Sukhumvit": await staff_chat(app, "ms", "manager", "sukhumvit", language_code="en"),
    }
    ploy = await make_member(app, "Ploy", "081-111-0001", home_branch_code="asoke")
    nok = await make_member(app, "Nok", "081-111-0002", home_branch_code="sukhumvit")
    await add_sale(app, ploy.id, "asoke", clock.now(), "120.00")
    await add_sale(app, ploy.id, "sukhumvit", clock.now(), "80.00")
    await add_sale(app, nok.id, "sukhumvit", clock.now(), "45.00", voided=True)
    async with console_client(app) as client:
        table = branch_table(await _overview(await signed_in(client, owner)))
        assert table == {"Asoke": 1, "Sukhumvit": 1}
        for name, manager in managers.items():
            html = await _overview(await signed_in(client, manager))
            assert first_window(html, "admin.sales") == table[name], name


async def test_a_member_who_buys_away_from_home_is_active_at_some_branch(
    app: App, clock: FrozenClock
) -> None:
    owner = await staff_chat(app, "own", "owner", language_code="en")
    asoke = await staff_chat(app, "ma", "manager", "asoke", language_code="en")
    sukhumvit = await staff_chat(app, "ms", "manager", "sukhumvit", language_code="en")
    ploy = await make_member(app, "Ploy", "081-111-0001", home_branch_code="asoke")
    await add_sale(app, ploy.id, "sukhumvit", clock.now(), "80.00")
    async with console_client(app) as client:
        shop = first_window(await _overview(await signed_in(client, owner)), "admin.active_members")
        assert shop == 1
        per_branch = [
            first_window(await _overview(await signed_in(client, m)), "admin.active_members")
            for m in (asoke, sukhumvit)
        ]
    assert sum(per_branch) >= shop, per_branch


async def test_another_branch_s_member_thread_and_cashier_are_not_found_by_id(app: App) -> None:
    manager = await staff_chat(app, "ms", "manager", "sukhumvit", language_code="en")
    chat, ploy = await member_chat(app, home_branch_code="asoke")
    await chat.say("Do you have oat milk?")
    [thread] = await threads(app)
    cashier = await make_staff(app, "ca", "cashier", "asoke")
    async with console_client(app) as client:
        browser = await signed_in(client, manager)
        for path in (
            f"/admin/members/{ploy.id}",
            f"/admin/inbox/{thread.id}",
            f"/admin/staff/{cashier.id}/remove",
        ):
            assert (await browser.get(path)).status == 404, path
        posted = {
            f"/admin/inbox/{thread.id}/reply": {"text": "yes"},
            f"/admin/members/{ploy.id}/tags": {"text": "vip"},
            f"/admin/staff/{cashier.id}/remove": {},
        }
        for path, form in posted.items():
            assert (await browser.post(path, form)).status in (403, 404), path
        invite = {"role": "cashier", "branch": "asoke"}
        assert (await browser.post("/admin/staff/invite", invite)).status == 400
    async with app.uow() as uow:
        assert await session_of(uow).scalar(select(func.count(StaffInvite.id))) == 0
    [still] = await threads(app)
    assert still.first_response_at is None


async def test_the_report_and_the_console_agree_on_the_last_30_days(
    app: App, clock: FrozenClock
) -> None:
    owner = await staff_chat(app, "own", "owner", language_code="en")
    ploy = await make_member(app, "Ploy", "081-111-0001", home_branch_code="asoke")
    # 18:00 in Bangkok on 1 February; now is 14:30 on 3 March
    await add_sale(app, ploy.id, "asoke", datetime(2026, 2, 1, 11, 0, tzinfo=UTC), "90.00")
    await add_sale(app, ploy.id, "asoke", clock.now(), "120.00")
    await owner.say("/report")
    in_chat = re.search(r"^Sales (\d+) ", owner.text(), re.M)
    assert in_chat is not None, owner.text()
    async with console_client(app) as client:
        html = await _overview(await signed_in(client, owner))
    assert windows(html, "admin.sales")[1] == in_chat.group(1)


async def test_a_branch_manager_counts_and_exports_their_branch_s_members_only(
    app: App, clock: FrozenClock
) -> None:
    """Asoke's member buys at Sukhumvit too: Sukhumvit's manager filters by the visit, counts
    and exports, and gets none of Asoke's members; Asoke's manager gets her."""
    asoke = await staff_chat(app, "ma", "manager", "asoke", language_code="en")
    sukhumvit = await staff_chat(app, "ms", "manager", "sukhumvit", language_code="en")
    ploy = await make_member(app, "Ploy", "081-111-0001", home_branch_code="asoke")
    await add_sale(app, ploy.id, "sukhumvit", clock.now(), "80.00")
    rule = {"rule": "branch in (sukhumvit)"}
    async with console_client(app) as client:
        seen: dict[str, tuple[int, bool]] = {}
        for name, manager in (("asoke", asoke), ("sukhumvit", sukhumvit)):
            browser = await signed_in(client, manager)
            counted = await (await browser.post("/admin/members/count", rule)).json()
            exported = await (await browser.post("/admin/members/export", rule)).text()
            seen[name] = (counted["count"], ploy.member_code in exported)
    assert seen == {"asoke": (1, True), "sukhumvit": (0, False)}
