"""Branches as a new shop meets them through the web console (over HTTP) and the counter's
chat: the first branch of an empty shop, a name with markup and emoji, closing the only
open branch, and what ``/sale`` then says."""

from __future__ import annotations

from markupsafe import escape

from bot.bootstrap import App
from bot.i18n import t
from tests.chat import Chat
from tests.unit.admin_support import Browser, console_client, signed_in
from tests.unit.staff_support import audit_rows, make_member, staff_chat

NAME_TH = "<b>อโศก</b> 🍵 <script>alert(1)</script>"


async def _first_branch(app: App, browser: Browser) -> None:
    form = {"code": "asoke", "name_th": NAME_TH, "name_en": "Asoke"}
    added = await browser.post("/admin/settings/branches/add", form)
    assert added.status == 303


async def test_an_empty_shops_first_branch_from_the_console_is_shown_escaped(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner", language_code="th")
    async with console_client(app) as client:
        browser = await signed_in(client, owner)
        await _first_branch(app, browser)
        page = await (await browser.get("/admin/settings")).text()
    assert str(escape(NAME_TH)) in page
    assert "<script>alert(1)</script>" not in page
    [added] = await audit_rows(app, "branch.added")
    assert added.details["after"]["name_th"] == NAME_TH
    newcomer = Chat(app, user_id="n1", display_name="Nok")
    await owner.say("/branches")
    assert NAME_TH in owner.text()  # the chat shows the name as typed
    await newcomer.say("/start")
    assert newcomer.last  # a welcome


async def test_closing_the_only_branch_refuses_a_sale_there(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    await make_member(app, "Ploy", "0812345678", user_id="m1")
    async with console_client(app) as client:
        browser = await signed_in(client, owner)
        await _first_branch(app, browser)
        closed = await browser.post("/admin/settings/branches/asoke/open", {"open": "0"})
        assert closed.status == 303
    await owner.say("/sale 0812345678 100 branch=asoke")
    assert owner.text() == t("en", "branches.closed_sale", branch="asoke")


async def test_a_sale_with_every_branch_closed_does_not_say_there_is_none(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    await make_member(app, "Ploy", "0812345678", user_id="m1")
    async with console_client(app) as client:
        browser = await signed_in(client, owner)
        await _first_branch(app, browser)
        await browser.post("/admin/settings/branches/asoke/open", {"open": "0"})
    await owner.say("/sale 0812345678 100")
    assert owner.text() != t("en", "sale.no_branches")
    assert owner.text() == t("en", "sale.branches_closed", branches="asoke")
