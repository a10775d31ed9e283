"""The console's member list, member page and CSV download (over HTTP) with the names real
customers choose — Thai with emoji and zero-width joiners, markup, spreadsheet formulas — and
with a member who erased themselves."""

from __future__ import annotations

import csv
import io

from markupsafe import escape

from bot.bootstrap import App
from tests.chat import Chat
from tests.unit.admin_support import Browser, console_client, signed_in
from tests.unit.staff_support import ensure_branches, make_member, staff_chat

NAMES = {
    "0810000001": "พลอย 👩\u200d👩\u200d👧 ใจดี",
    "0810000002": '<img src=x onerror="alert(1)">',
    "0810000003": '=HYPERLINK("http://evil.example","ดูแต้ม")',
    "0810000004": "+1+cmd|' /C calc'!A0",
    "0810000005": "-2+3",
    "0810000006": "@SUM(A1:A9)",
    "0810000007": "\tTAB",
}
ERASED_NAME = "ลบแล้ว Erased"


async def _shop(app: App) -> int:
    """The members of :data:`NAMES` and one of another branch; the erased member's id."""
    await ensure_branches(app, ("asoke", "siam"))
    for n, (phone, name) in enumerate(NAMES.items()):
        await make_member(app, name, phone, user_id=f"60{n}", home_branch_code="asoke")
    await make_member(app, "Siam Only", "0820000000", user_id="700", home_branch_code="siam")
    erased = await make_member(
        app, ERASED_NAME, "0899999999", user_id="699", home_branch_code="asoke"
    )
    gone = Chat(app, user_id="699")
    await gone.say("/deleteme")
    await gone.press("del:yes")
    return erased.id


async def _download(browser: Browser, rule: str = "") -> list[dict[str, str]]:
    response = await browser.post("/admin/members/export", {"rule": rule})
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    text = (await response.read()).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


async def test_the_csv_guards_every_formula_and_holds_no_erased_member(app: App) -> None:
    await _shop(app)
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    async with console_client(app) as client:
        rows = await _download(await signed_in(client, owner))
    names = {row["phone"].removeprefix("'"): row["name"] for row in rows}
    assert "+66899999999" not in names
    assert all(ERASED_NAME not in value for row in rows for value in row.values())
    assert names["+66810000001"] == NAMES["0810000001"]  # joiners and emoji kept
    assert names["+66810000002"] == NAMES["0810000002"]  # a CSV has no markup to escape
    for phone in ("0810000003", "0810000004", "0810000005", "0810000006", "0810000007"):
        assert names["+66" + phone[1:]] == "'" + NAMES[phone], phone


async def test_no_cell_of_the_download_is_read_as_a_formula(app: App) -> None:
    """The console's download is the export's writer: a phone ``+66…`` would be a number in
    Excel (6.68E+10), a name ``=…`` a formula; every cell is text."""
    await _shop(app)
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    async with console_client(app) as client:
        rows = await _download(await signed_in(client, owner))
    assert len(rows) == len(NAMES) + 1  # the other branch's member too; not the erased one
    live = [
        (column, value)
        for row in rows
        for column, value in row.items()
        if value.startswith(("=", "+", "-", "@", "\t", "\r"))
    ]
    assert live == []
    assert {row["phone"] for row in rows} >= {"'+66810000001", "'+66820000000"}


async def test_a_branch_managers_download_has_their_branch_only(app: App) -> None:
    await _shop(app)
    manager = await staff_chat(app, "m1", "manager", "siam", language_code="en")
    async with console_client(app) as client:
        browser = await signed_in(client, manager)
        everyone = await _download(browser)
        asoke = await _download(browser, "home_branch = asoke")
    assert [row["name"] for row in everyone] == ["Siam Only"]
    assert asoke == []


async def test_the_pages_show_every_name_escaped_and_never_the_erased_one(app: App) -> None:
    erased_id = await _shop(app)
    owner = await staff_chat(app, "o1", "owner", language_code="th")
    async with console_client(app) as client:
        browser = await signed_in(client, owner)
        listing = await (await browser.get("/admin/members")).text()
        found = await browser.post("/admin/members", {"q": "0899999999"})
        searched = await found.text()
        erased_page = await browser.get(f"/admin/members/{erased_id}")
        assert erased_page.status == 404
        assert ERASED_NAME not in await erased_page.text()
    for name in NAMES.values():
        assert str(escape(name)) in listing, name
    assert '<img src=x onerror="alert(1)">' not in listing
    assert ERASED_NAME not in listing
    assert ERASED_NAME not in searched


async def test_staff_names_with_markup_are_shown_escaped_on_the_staff_page(app: App) -> None:
    await ensure_branches(app, ("asoke",))
    owner = await staff_chat(app, "o1", "owner", language_code="th", name="เจ้าของ 👑")
    evil = '<script>alert("x")</script> น้องมิ้นท์ 🍵'
    await staff_chat(app, "c1", "cashier", "asoke", name=evil)
    async with console_client(app) as client:
        browser = await signed_in(client, owner)
        page = await (await browser.get("/admin/staff")).text()
    assert str(escape(evil)) in page
    assert "<script>alert" not in page
    assert "เจ้าของ 👑" in page
