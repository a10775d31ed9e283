"""The console's staff page: the team, invites (a /claim code that works in the chat),
revoking, removing (which ends the removed person's console session), and the refusals."""

from __future__ import annotations

import re

from markupsafe import escape

from bot.bootstrap import App
from bot.i18n import t
from tests.chat import Chat
from tests.unit.admin_support import console_client, signed_in
from tests.unit.staff_support import audit_rows, ensure_branches, staff_chat, staff_of

_CLAIM = re.compile(r'<code id="claim">(/claim [A-Z0-9-]+)</code>')


async def test_an_owner_invites_a_cashier_whose_code_works_in_the_chat(app: App) -> None:
    await ensure_branches(app, ("asoke",))
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    async with console_client(app) as client:
        browser = await signed_in(client, owner)
        listing = await (await browser.get("/admin/staff")).text()
        assert "owner o1" in listing
        made = await browser.post("/admin/staff/invite", {"role": "cashier", "branch": "asoke"})
        assert made.status == 200
        found = _CLAIM.search(await made.text())
        assert found is not None
        assert "/claim" not in made.url.path
        [invited] = await audit_rows(app, "staff.invited")
        assert invited.actor.startswith("staff:")
        assert invited.channel == "web"
        newcomer = Chat(app, user_id="c9", language_code="en", display_name="Nok")
        await newcomer.say(found.group(1))
        joined = await staff_of(app, "c9")
        assert joined is not None
        assert joined.role == "cashier"


async def test_a_manager_invites_only_cashiers_of_their_own_branch(app: App) -> None:
    await ensure_branches(app, ("asoke", "ratchada"))
    manager = await staff_chat(app, "m1", "manager", "asoke", language_code="en")
    async with console_client(app) as client:
        browser = await signed_in(client, manager)
        page = await (await browser.get("/admin/staff")).text()
        assert 'value="owner"' not in page
        assert 'value="ratchada"' not in page
        forged_role = await browser.post("/admin/staff/invite", {"role": "owner", "branch": ""})
        assert forged_role.status == 400
        assert t("en", "error.not_allowed") in await forged_role.text()
        forged_branch = await browser.post(
            "/admin/staff/invite", {"role": "cashier", "branch": "ratchada"}
        )
        assert forged_branch.status == 400
        unknown = await browser.post("/admin/staff/invite", {"role": "cashier", "branch": "nope"})
        assert str(escape(t("en", "error.unknown_branch", code="nope"))) in await unknown.text()
        assert await audit_rows(app, "staff.invited") == []
        ok = await browser.post("/admin/staff/invite", {"role": "cashier", "branch": ""})
        assert _CLAIM.search(await ok.text()) is not None  # their own branch by default


async def test_revoking_an_invite_and_a_manager_cannot_revoke_the_owners(app: App) -> None:
    await ensure_branches(app, ("asoke",))
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    manager = await staff_chat(app, "m1", "manager", "asoke", language_code="en")
    async with console_client(app) as client:
        boss = await signed_in(client, owner)
        await boss.post("/admin/staff/invite", {"role": "manager", "branch": "asoke"})
        [invited] = await audit_rows(app, "staff.invited")
        invite_id = invited.details["invite_id"]
        other = await signed_in(client, manager)
        listing = await (await other.get("/admin/staff")).text()
        assert f"/admin/staff/invites/{invite_id}/revoke" not in listing
        refused = await other.post(f"/admin/staff/invites/{invite_id}/revoke", {})
        assert refused.status == 404
        assert await audit_rows(app, "staff.invite_revoked") == []
        no_token = await boss.post(f"/admin/staff/invites/{invite_id}/revoke", {}, csrf=False)
        assert no_token.status == 403
        revoked = await boss.post(f"/admin/staff/invites/{invite_id}/revoke", {})
        assert revoked.status == 303
        assert revoked.headers["Location"] == "/admin/staff?done=revoked"
        again = await boss.post(f"/admin/staff/invites/{invite_id}/revoke", {})
        assert again.status == 404
    [row] = await audit_rows(app, "staff.invite_revoked")
    assert row.actor == invited.actor


async def test_removing_a_manager_ends_their_console_session(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    manager = await staff_chat(app, "m1", "manager", language_code="en")
    target = await staff_of(app, "m1")
    assert target is not None
    async with console_client(app) as client:
        boss = await signed_in(client, owner)
        them = await signed_in(client, manager)
        confirm = await boss.get(f"/admin/staff/{target.id}/remove")
        assert confirm.status == 200
        forged = await boss.post(f"/admin/staff/{target.id}/remove", {}, csrf=False)
        assert forged.status == 403
        assert (await them.get("/admin/")).status == 200
        removed = await boss.post(f"/admin/staff/{target.id}/remove", {})
        assert removed.status == 303
        assert (await them.get("/admin/staff")).status == 401
    [row] = await audit_rows(app, "staff.removed")
    assert row.channel == "web"
    gone = await staff_of(app, "m1")
    assert gone is None or not gone.active


async def test_a_manager_cannot_remove_a_manager_and_nobody_removes_the_last_owner(
    app: App,
) -> None:
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    manager = await staff_chat(app, "m1", "manager", language_code="en")
    await staff_chat(app, "m2", "manager", language_code="en")
    peer, boss_row = [await staff_of(app, u) for u in ("m2", "o1")]
    async with console_client(app) as client:
        browser = await signed_in(client, manager)
        assert peer is not None
        assert boss_row is not None
        assert (await browser.get(f"/admin/staff/{peer.id}/remove")).status == 404
        assert (await browser.post(f"/admin/staff/{peer.id}/remove", {})).status == 404
        boss = await signed_in(client, owner)
        last = await boss.post(f"/admin/staff/{boss_row.id}/remove", {})
        assert last.status == 400
        assert t("en", "staff.last_owner") in await last.text()
    assert await audit_rows(app, "staff.removed") == []
