"""The member list filtered by a segment rule: the page, the live count (JSON for the page's
script), the CSV export in ``chatcrm export members``'s format, and the refusals."""

from __future__ import annotations

import asyncio
import csv
import io
import json

import pytest

from bot.admin import member_filter
from bot.bootstrap import App
from storage.exporting import COLUMNS
from tests.unit.admin_support import console_client, signed_in
from tests.unit.staff_support import audit_rows, ensure_branches, make_member, staff_chat


async def _shop(app: App) -> None:
    await ensure_branches(app, ("asoke", "ratchada"))
    await make_member(app, "Ploy", "081-111-1111", points=300, home_branch_code="asoke")
    await make_member(app, "Nok", "081-222-2222", points=50, home_branch_code="ratchada")
    await make_member(app, "Fah", "081-333-3333", points=500, home_branch_code="ratchada")


async def test_the_live_count_follows_the_rule_and_speaks_the_chat_s_errors(app: App) -> None:
    await _shop(app)
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    async with console_client(app) as client:
        browser = await signed_in(client, owner)
        page = await (await browser.get("/admin/members")).text()
        assert 'src="/admin/static/member_filter.js"' in page
        wide = await browser.post("/admin/members/count", {"rule": "points >= 100"})
        assert wide.status == 200
        assert json.loads(await wide.text()) == {"count": 2, "text": "2 members match"}
        narrow = await browser.post("/admin/members/count", {"rule": "points >= 400"})
        assert json.loads(await narrow.text())["text"] == "1 member matches"
        bad = await browser.post("/admin/members/count", {"rule": "pionts >= 1"})
        assert bad.status == 400
        error = json.loads(await bad.text())["error"]
        assert error == "Unknown field 'pionts' (character 1) — did you mean 'points'?"
        branch = await browser.post("/admin/members/count", {"rule": "home_branch = nowhere"})
        assert "There is no branch 'nowhere'" in json.loads(await branch.text())["error"]


async def test_the_count_s_error_is_in_thai_for_a_thai_owner(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner", language_code="th")
    async with console_client(app) as client:
        browser = await signed_in(client, owner)
        bad = await browser.post("/admin/members/count", {"rule": "pionts >= 1"})
        thai = json.loads(await bad.text())["error"]
    assert "pionts" in thai
    assert "Unknown" not in thai


async def test_the_filtered_page_lists_the_rule_s_members_page_by_page(app: App) -> None:
    await _shop(app)
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    async with console_client(app) as client:
        browser = await signed_in(client, owner)
        page = await (await browser.post("/admin/members/filter", {"rule": "points >= 100"})).text()
        assert "Ploy" in page
        assert "Fah" in page
        assert "Nok" not in page
        assert "2 members match" in page
        assert 'value="points &gt;= 100"' in page  # the rule stays in the form, escaped
        bad = await browser.post("/admin/members/filter", {"rule": "points >="})
        assert bad.status == 400
        assert "The rule ends too early" in await bad.text()
        empty = await browser.post("/admin/members/filter", {"rule": ""})
        assert empty.status == 303


async def test_paging_a_filter_walks_by_member_id(app: App) -> None:
    from bot.admin import pages

    await _shop(app)
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    original = pages.PAGE_SIZE
    try:
        from bot.admin import member_filter

        member_filter.PAGE_SIZE = 1  # type: ignore[misc]
        async with console_client(app) as client:
            browser = await signed_in(client, owner)
            first = await (
                await browser.post("/admin/members/filter", {"rule": "points >= 0"})
            ).text()
            assert "Ploy" in first
            assert "Nok" not in first
            import re

            after = re.search(r'name="after" value="(\d+)"', first)
            assert after is not None
            second = await browser.post(
                "/admin/members/filter", {"rule": "points >= 0", "after": after.group(1)}
            )
            text = await second.text()
        assert "Nok" in text
        assert "Ploy" not in text
    finally:
        member_filter.PAGE_SIZE = original  # type: ignore[misc]


async def test_a_manager_counts_filters_and_exports_only_their_branch(app: App) -> None:
    await _shop(app)
    manager = await staff_chat(app, "m1", "manager", branch_code="ratchada", language_code="en")
    async with console_client(app) as client:
        browser = await signed_in(client, manager)
        counted = await browser.post("/admin/members/count", {"rule": "points >= 100"})
        assert json.loads(await counted.text())["count"] == 1
        page = await (await browser.post("/admin/members/filter", {"rule": "points >= 0"})).text()
        assert "Ploy" not in page
        assert "Nok" in page
        assert "Fah" in page
        export = await browser.post("/admin/members/export", {"rule": ""})
        rows = list(csv.reader(io.StringIO((await export.read()).decode("utf-8-sig"))))
    assert sorted(row[1] for row in rows[1:]) == ["Fah", "Nok"]


async def test_export_is_the_cli_s_csv_of_the_filtered_list_and_is_audited(app: App) -> None:
    await _shop(app)
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    async with console_client(app) as client:
        browser = await signed_in(client, owner)
        response = await browser.post("/admin/members/export", {"rule": "points >= 100"})
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/csv")
        assert response.headers["Cache-Control"] == "no-store, private"
        assert "attachment" in response.headers["Content-Disposition"]
        body = await response.read()
        bad = await browser.post("/admin/members/export", {"rule": "pionts > 1"})
        assert bad.status == 400
    assert body.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert tuple(rows[0]) == COLUMNS
    assert sorted(row[1] for row in rows[1:]) == ["Fah", "Ploy"]
    exported = await audit_rows(app, "console.members_exported")
    assert len(exported) == 1
    assert exported[0].details == {"rule": "points >= 100", "members": 2}
    assert exported[0].actor.startswith("staff:")


async def test_every_filter_action_refuses_a_forged_form_and_no_session(app: App) -> None:
    await _shop(app)
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    async with console_client(app) as client:
        browser = await signed_in(client, owner)
        for path in ("/admin/members/filter", "/admin/members/count", "/admin/members/export"):
            forged = await browser.post(path, {"rule": "points >= 0", "csrf": "x"}, csrf=False)
            assert forged.status == 403, path
            assert "Ploy" not in await forged.text()
            anonymous = await client.post(path, data={"rule": "points >= 0"})
            assert anonymous.status == 401, path
    assert await audit_rows(app, "console.members_exported") == []


async def test_a_cashier_has_no_filter(app: App) -> None:
    await _shop(app)
    cashier = await staff_chat(app, "c1", "cashier", branch_code="asoke", language_code="en")
    await cashier.say("/dashboard")
    assert "/admin/signin/" not in cashier.text()


async def test_a_count_whose_client_left_is_cancelled(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A newer keystroke aborts the count in flight: the server stops counting for it (the
    statement is cancelled with the task), it does not count on for nobody."""
    entered, cancelled = asyncio.Event(), asyncio.Event()

    async def slow_count(*_: object) -> int:
        entered.set()
        try:
            await asyncio.Event().wait()  # a count at 1M members, as long as it takes
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return 0

    monkeypatch.setattr(member_filter, "member_count", slow_count)
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    async with console_client(app) as client:
        browser = await signed_in(client, owner)
        asked = asyncio.create_task(browser.post("/admin/members/count", {"rule": "points > 1"}))
        await entered.wait()
        asked.cancel()  # as the browser's AbortController does: the connection closes
        with pytest.raises(asyncio.CancelledError):
            await asked
        # the guard only turns a count left running into a failure instead of a hang
        await asyncio.wait_for(cancelled.wait(), timeout=30)
