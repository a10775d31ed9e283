"""The member page's additions: tier progress, campaigns, inbox thread, and the tag and note
forms (the chat's /tag and /note rules, audited with the staff member), with the refusals."""

from __future__ import annotations

from bot.bootstrap import App
from storage.models import Campaign, CampaignMember, InboxMessage
from storage.raw_session import session_of
from tests.unit.admin_support import console_client, signed_in
from tests.unit.staff_support import audit_rows, ensure_branches, make_member, staff_chat


async def test_tags_and_notes_change_through_the_chat_s_rules_and_are_audited(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    ploy = await make_member(app, "Ploy", "081-111-1111")
    async with console_client(app) as client:
        browser = await signed_in(client, owner)
        page = f"/admin/members/{ploy.id}"
        await browser.get(page)
        tagged = await browser.post(f"{page}/tags", {"tags": "+VIP regular"})
        assert tagged.status == 303
        assert tagged.headers["Location"] == page
        await browser.post(f"{page}/tags", {"tags": "-regular"})
        noted = await browser.post(f"{page}/notes", {"note": "Likes oat milk\x07"})
        assert noted.status == 303
        shown = await (await browser.get(page)).text()
    assert '<span class="tag">vip</span>' in shown
    assert '<span class="tag">regular</span>' not in shown
    assert "Likes oat milk" in shown
    async with app.uow() as uow:
        assert await uow.people.tags(ploy.id) == ["vip"]
    changes = await audit_rows(app, "member.tagged")
    assert [entry.details["after"] for entry in changes] == [["regular", "vip"], ["vip"]]
    assert all(entry.actor.startswith("staff:") for entry in changes)
    assert all(entry.channel == "console" for entry in changes)
    noted_rows = await audit_rows(app, "member.noted")
    assert noted_rows[0].details["length"] == len("Likes oat milk")


async def test_bad_tags_and_notes_get_the_chat_s_message_and_change_nothing(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    ploy = await make_member(app, "Ploy", "081-111-1111")
    async with console_client(app) as client:
        browser = await signed_in(client, owner)
        page = f"/admin/members/{ploy.id}"
        await browser.get(page)
        bad = await browser.post(f"{page}/tags", {"tags": "ok no!tag"})
        assert bad.status == 400
        assert "no!tag" in await bad.text()
        long = await browser.post(f"{page}/notes", {"note": "x" * 501})
        assert long.status == 400
        assert "500" in await long.text()
        empty = await browser.post(f"{page}/notes", {"note": "   "})
        assert empty.status == 400
        assert "Write the note first." in await empty.text()
    async with app.uow() as uow:
        assert await uow.people.tags(ploy.id) == []
        assert list(await uow.people.notes(ploy.id)) == []
    assert await audit_rows(app, "member.tagged") == []


async def test_forged_forms_and_another_branch_s_member_are_refused(app: App) -> None:
    await ensure_branches(app, ("asoke", "ratchada"))
    manager = await staff_chat(app, "m1", "manager", branch_code="asoke", language_code="en")
    theirs = await make_member(app, "Nok", "081-222-2222", home_branch_code="ratchada")
    ours = await make_member(app, "Ploy", "081-111-1111", home_branch_code="asoke")
    async with console_client(app) as client:
        browser = await signed_in(client, manager)
        for path, data in (
            (f"/admin/members/{theirs.id}/tags", {"tags": "vip"}),
            (f"/admin/members/{theirs.id}/notes", {"note": "hi"}),
        ):
            refused = await browser.post(path, data)
            assert refused.status == 404, path
            assert "Nok" not in await refused.text()
        forged = await browser.post(
            f"/admin/members/{ours.id}/tags", {"tags": "vip", "csrf": "forged"}, csrf=False
        )
        assert forged.status == 403
        anonymous = await client.post(f"/admin/members/{ours.id}/notes", data={"note": "x"})
        assert anonymous.status == 401
    async with app.uow() as uow:
        assert await uow.people.tags(theirs.id) == []
        assert await uow.people.tags(ours.id) == []
        assert list(await uow.people.notes(theirs.id)) == []


async def test_the_page_shows_tier_progress_campaigns_and_the_inbox_thread(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    ploy = await make_member(app, "Ploy", "081-111-1111", user_id="u-ploy")
    now = app.clock.now()
    async with app.uow() as uow:
        s = session_of(uow)
        campaign = Campaign(
            name="Rainy day 1-get-1",
            segment_name="all",
            rule="points >= 0",
            message="hi",
            status="done",
            started_at=now,
            created_by="staff:1",
            created_at=now,
        )
        s.add(campaign)
        await s.flush()
        s.add(
            CampaignMember(
                campaign_id=campaign.id, member_id=ploy.id, group="recipient", clicked_at=now
            )
        )
        identity = await uow.identities.touch("telegram", "u-ploy", now, "Ploy", "th")
        s.add(
            InboxMessage(
                identity_id=identity.id, member_id=ploy.id, text="Open on Sunday?", received_at=now
            )
        )
        await uow.commit()
    async with console_client(app) as client:
        browser = await signed_in(client, owner)
        page = await (await browser.get(f"/admin/members/{ploy.id}")).text()
    assert "Tier progress" in page
    assert "<progress" in page
    assert "Rainy day 1-get-1" in page
    assert "opened the offer" in page
    assert "Open on Sunday?" in page
