"""The console's segments: the list with sizes, the live count (with the chat's error words),
create / edit / delete (audited, as the staff member), and the refusals."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

from bot.bootstrap import App
from storage.models import Sale
from storage.raw_session import session_of
from tests.unit.admin_support import Browser, console_client, signed_in
from tests.unit.staff_support import (
    audit_rows,
    ensure_branches,
    make_member,
    staff_chat,
    staff_of,
)

FIVE_CODES = ("asoke", "sukhumvit", "phetchaburi", "ratchada", "dindaeng")
FIVE = "branch in (" + ", ".join(FIVE_CODES) + ")"


async def _shop(app: App) -> list[int]:
    """Four members who visited a branch three weeks ago: three of the five, one at Silom."""
    branches = await ensure_branches(app, (*FIVE_CODES, "silom"))
    ids = []
    for i, code in enumerate(("asoke", "ratchada", "dindaeng", "silom")):
        member = await make_member(app, f"Member {i}", f"08100000{i:02d}", user_id=f"u{i}")
        async with app.uow() as uow:
            session_of(uow).add(
                Sale(
                    receipt_no=f"OLD-{i}",
                    member_id=member.id,
                    branch_id=branches[code],
                    amount=Decimal(120),
                    occurred_at=app.clock.now() - timedelta(days=21),
                    source="import",
                )
            )
            await uow.commit()
        ids.append(member.id)
    return ids


async def _saved_id(app: App, name: str) -> int:
    async with app.uow() as uow:
        segment = await uow.segments.by_name(name)
        assert segment is not None
        return segment.id


async def _count(browser: Browser, rule: str) -> dict[str, object]:
    response = await browser.post("/admin/segments/count", {"rule": rule})
    assert response.status == 200
    answer: dict[str, object] = json.loads(await response.text())
    return answer


async def test_the_live_count_counts_and_explains_as_the_chat_does(app: App) -> None:
    await _shop(app)
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    async with console_client(app) as client:
        browser = await signed_in(client, owner)
        form = await browser.get("/admin/segments/new")
        page = await form.text()
        assert '<script src="/admin/static/segment-count.js">' in page
        assert (await _count(browser, FIVE))["count"] == 3
        wrong = await _count(browser, "brnch in (asoke)")
        forged = await browser.post("/admin/segments/count", {"rule": FIVE}, csrf=False)
        script = await client.get("/admin/static/segment-count.js")
    assert forged.status == 403
    assert script.status == 200
    assert "count" not in wrong
    # the chat answers the same rule with the same words
    await owner.say(f"/segment new five {'brnch in (asoke)'}")
    assert wrong["error"] == owner.text()
    assert "branch" in str(wrong["error"])  # the suggestion


async def test_create_edit_and_delete_a_segment_audited(app: App) -> None:
    await _shop(app)
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    async with console_client(app) as client:
        browser = await signed_in(client, owner)
        await browser.get("/admin/segments/new")
        made = await browser.post("/admin/segments/new", {"name": "five", "rule": FIVE})
        assert made.status == 200
        listing = await made.text()
        assert "five" in listing
        assert "3 members" in listing or ">3<" in listing
        segment_id = await _saved_id(app, "five")
        edit = await browser.get(f"/admin/segments/{segment_id}")
        assert FIVE in await edit.text()
        changed = await browser.post(
            f"/admin/segments/{segment_id}", {"rule": "branch in (asoke, ratchada)"}
        )
        assert changed.status == 200
        assert "2 members" in await changed.text()
        unticked = await browser.post(f"/admin/segments/{segment_id}/delete", {})
        assert unticked.status == 400
        assert (await _saved_id(app, "five")) == segment_id
        deleted = await browser.post(f"/admin/segments/{segment_id}/delete", {"confirm": "yes"})
        assert deleted.status == 200
    async with app.uow() as uow:
        assert await uow.segments.by_name("five") is None
    staff = await staff_of(app, "o1")
    assert staff is not None
    actor = f"staff:{staff.id}"
    for action in ("segment.created", "segment.changed", "segment.deleted"):
        rows = await audit_rows(app, action)
        assert [row.actor for row in rows] == [actor], action
    change = (await audit_rows(app, "segment.changed"))[0]
    assert change.details["before"] == FIVE
    assert change.details["after"] == "branch in (asoke, ratchada)"


async def test_bad_names_and_rules_are_refused_in_thai_and_nothing_is_saved(app: App) -> None:
    await _shop(app)
    owner = await staff_chat(app, "o1", "owner", language_code="th")
    async with console_client(app) as client:
        browser = await signed_in(client, owner)
        await browser.get("/admin/segments/new")
        builtin = await browser.post("/admin/segments/new", {"name": "lapsed", "rule": FIVE})
        bad_rule = await browser.post("/admin/segments/new", {"name": "x", "rule": "visits >> 2"})
        empty = await browser.post("/admin/segments/new", {"name": "x", "rule": ""})
        await browser.post("/admin/segments/new", {"name": "five", "rule": FIVE})
        taken = await browser.post("/admin/segments/new", {"name": "FIVE", "rule": FIVE})
        for response in (builtin, bad_rule, empty, taken):
            assert response.status == 400
            assert 'id="error"' in await response.text()
        assert "lapsed" in await builtin.text()
    async with app.uow() as uow:
        assert [s.name for s in await uow.segments.all()] == ["five"]


async def test_refusals_cashier_forged_token_and_unknown_id(app: App) -> None:
    await _shop(app)
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    cashier = await staff_chat(app, "c1", "cashier", branch_code="asoke")
    await owner.say(f"/segment new five {FIVE}")
    segment_id = await _saved_id(app, "five")
    async with console_client(app) as client:
        await cashier.say("/dashboard")
        assert "/admin/signin/" not in cashier.text()
        anonymous = await client.get("/admin/segments")
        assert anonymous.status == 401
        browser = await signed_in(client, owner)
        forged = await browser.post(
            f"/admin/segments/{segment_id}/delete", {"confirm": "yes"}, csrf=False
        )
        assert forged.status == 403
        missing = await browser.post("/admin/segments/999999/delete", {"confirm": "yes"})
        assert missing.status == 404
        assert (await browser.get("/admin/segments/999999")).status == 404
    assert await _saved_id(app, "five") == segment_id


async def test_a_branch_manager_has_the_segments_the_chat_gives_them(app: App) -> None:
    """``/segments`` is open to every manager in the chat; the console is the same."""
    await _shop(app)
    manager = await staff_chat(app, "m1", "manager", branch_code="asoke", language_code="th")
    async with console_client(app) as client:
        browser = await signed_in(client, manager)
        listing = await browser.get("/admin/segments")
        page = await listing.text()
    assert listing.status == 200
    assert "กลุ่มสำเร็จรูป" in page
    await manager.say("/segments")
    assert "lapsed" in manager.text()
    assert "lapsed" in page
