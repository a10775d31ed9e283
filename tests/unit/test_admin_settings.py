"""The console's settings page: every form of the owner's saves through the chat's own setter,
audited with the staff member as actor; a refused value shows the chat's message in the
viewer's language and changes nothing; a manager reads the values with nothing to press and a
manager's POST or a forged form changes nothing; a cashier has no page."""

from __future__ import annotations

from markupsafe import escape
from sqlalchemy import update

from bot.bootstrap import App
from bot.i18n import t
from shop.branches import list_branches
from storage.models import Staff
from storage.raw_session import session_of as raw_session
from tests.unit.admin_support import Browser, console_client, signed_in
from tests.unit.settings_support import changes, stored
from tests.unit.staff_support import audit_rows, ensure_branches, make_member, staff_chat


async def _saved(browser: Browser, path: str, data: dict[str, str]) -> None:
    response = await browser.post(path, data)
    assert response.status == 303, await response.text()
    assert response.headers["Location"] == "/admin/settings?done=saved"


async def _refused(browser: Browser, path: str, data: dict[str, str], message: str) -> None:
    response = await browser.post(path, data)
    assert response.status == 400
    assert str(escape(message)) in await response.text()


async def test_an_owner_changes_the_shop_policy_automations_and_tier_names(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    async with console_client(app) as client:
        browser = await signed_in(client, owner)
        page = await (await browser.get("/admin/settings")).text()
        assert 'id="quiet"' in page
        await _saved(browser, "/admin/settings/shop-name", {"name_th": "ร้านปลาย", "name_en": ""})
        await _saved(browser, "/admin/settings/line-price", {"price": "0.05"})
        await _saved(browser, "/admin/settings/policy", {"field": "quiet", "value": "22:00-08:00"})
        await _saved(browser, "/admin/settings/policy", {"field": "days", "value": "14"})
        await _saved(
            browser, "/admin/settings/policy", {"field": "cap", "group": "fan", "value": "๕"}
        )
        await _saved(browser, "/admin/settings/automations/birthday/switch", {})
        await _saved(
            browser,
            "/admin/settings/automations/winback/number",
            {"field": "lapsed_days", "value": "120"},
        )
        await _saved(
            browser, "/admin/settings/tiers", {"tier": "gold", "locale": "en", "value": "VIP"}
        )
        after = await (await browser.get("/admin/settings?done=saved")).text()
        assert t("en", "admin_settings.done_saved") in after
        assert 'value="22:00-08:00"' in after
    assert (await stored(app, "shop"))["name_th"] == "ร้านปลาย"
    assert (await stored(app, "campaign"))["line_message_price"] == "0.05"
    policy = await stored(app, "contact_policy")
    assert policy["quiet_hours"] == ["22:00", "08:00"]
    assert policy["cap_days"] == 14
    assert policy["caps"]["fan"] == 5
    automations = await stored(app, "automations")
    assert automations["birthday"]["enabled"] is False
    assert automations["winback"]["lapsed_days"] == 120
    assert (await stored(app, "loyalty"))["tier_names"]["gold"]["en"] == "VIP"
    rows = await audit_rows(app, "settings.changed")
    assert len(rows) == 8
    assert {row.actor for row in rows} == {rows[0].actor}
    assert rows[0].actor.startswith("staff:")
    assert {row.channel for row in rows} == {"web"}
    quiet = next(row for row in rows if row.details["field"] == "quiet_hours")
    assert quiet.details["before"] == ["21:00", "09:00"]
    assert quiet.details["after"] == ["22:00", "08:00"]


async def test_bad_values_show_the_chats_message_in_the_viewers_language(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner", language_code="th")
    async with console_client(app) as client:
        browser = await signed_in(client, owner)
        await browser.get("/admin/settings")
        await _refused(
            browser,
            "/admin/settings/policy",
            {"field": "quiet", "value": "late"},
            t("th", "prefs.bad_quiet"),
        )
        await _refused(
            browser,
            "/admin/settings/automations/winback/number",
            {"field": "lapsed_days", "value": "3"},
            t("th", "settings.bad_int", low="7", high="730"),
        )
        await _refused(
            browser,
            "/admin/settings/branches/add",
            {"code": "A B", "name_th": "x"},
            t("th", "branches.bad_code", low=2, high=20),
        )
        bad_field = await browser.post("/admin/settings/policy", {"field": "x", "value": "1"})
        assert bad_field.status == 404
    assert await changes(app) == 0
    assert await stored(app, "contact_policy") is None


async def test_the_console_refuses_a_greeting_hour_and_quiet_hours_that_clash(app: App) -> None:
    """The console saves through the chat's writers: a birthday greeting hour that the quiet
    hours hold until the next day, and quiet hours that would hold the greeting hour (10:00)
    so, are refused with the chat's reason."""
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    async with console_client(app) as client:
        browser = await signed_in(client, owner)
        await browser.get("/admin/settings")
        await _refused(
            browser,
            "/admin/settings/automations/birthday/number",
            {"field": "hour", "value": "22"},
            t("en", "prefs.greeting_in_quiet", hour="22:00", start="21:00", end="09:00"),
        )
        await _refused(
            browser,
            "/admin/settings/policy",
            {"field": "quiet", "value": "09:30-08:00"},
            t("en", "prefs.quiet_covers_greeting", hour="10:00", start="09:30", end="08:00"),
        )
    assert await changes(app) == 0


async def test_an_owner_adds_renames_closes_and_reopens_a_branch(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    async with console_client(app) as client:
        browser = await signed_in(client, owner)
        await browser.get("/admin/settings")
        await _saved(
            browser,
            "/admin/settings/branches/add",
            {"code": "siam-2", "name_th": "สยาม 2", "name_en": "Siam 2"},
        )
        await _refused(
            browser,
            "/admin/settings/branches/add",
            {"code": "siam-2", "name_th": "again"},
            t("en", "branches.duplicate", code="siam-2"),
        )
        await _saved(
            browser,
            "/admin/settings/branches/siam-2/rename",
            {"name_th": "สยามสแควร์", "name_en": ""},
        )
        await _saved(browser, "/admin/settings/branches/siam-2/open", {"open": "0"})
        page = await (await browser.get("/admin/settings")).text()
        assert t("en", "admin_settings.reopen_branch") in page
        await _saved(browser, "/admin/settings/branches/siam-2/open", {"open": "1"})
    async with app.uow() as uow:
        [branch] = await list_branches(uow)
    assert (branch.code, branch.name_th, branch.name_en, branch.is_open) == (
        "siam-2",
        "สยามสแควร์",
        "สยามสแควร์",
        True,
    )
    actions = [row.action for row in await audit_rows(app) if row.action.startswith("branch.")]
    assert actions == ["branch.added", "branch.renamed", "branch.closed", "branch.reopened"]


async def test_a_manager_reads_the_settings_but_changes_nothing(app: App) -> None:
    await ensure_branches(app, ("asoke",))
    manager = await staff_chat(app, "m1", "manager", branch_code="asoke", language_code="en")
    async with console_client(app) as client:
        browser = await signed_in(client, manager)
        home = await (await browser.get("/admin/")).text()
        assert 'href="/admin/settings"' in home
        answer = await browser.get("/admin/settings")
        assert answer.status == 200
        page = await answer.text()
        assert t("en", "prefs.read_only") in page
        assert '<span class="value" id="quiet">21:00-09:00</span>' in page
        assert 'id="winback-lapsed_days">' in page
        assert "/admin/settings/" not in page  # no form posts anywhere from it
        assert "<input" not in page.split("</header>")[1]
        assert "<button" not in page.split("</header>")[1]
        for path, data in (
            ("/admin/settings/shop-name", {"name_th": "mine"}),
            ("/admin/settings/policy", {"field": "quiet", "value": "22:00-08:00"}),
            ("/admin/settings/automations/birthday/switch", {}),
            ("/admin/settings/branches/asoke/open", {"open": "0"}),
            ("/admin/settings/branches/add", {"code": "new", "name_th": "new"}),
            ("/admin/settings/rewards/add", {"name_th": "x", "cost": "10"}),
            ("/admin/settings/lifecycle/preview", {"field": "new_days", "value": "45"}),
            ("/admin/settings/lifecycle", {"field": "new_days", "value": "45"}),
        ):
            refused = await browser.post(path, data)
            assert refused.status == 403, path
            assert t("en", "prefs.read_only") in await refused.text(), path
    assert await changes(app) == 0
    assert await audit_rows(app, "branch.closed") == []


async def test_a_cashier_has_no_settings_page(app: App) -> None:
    """No link for a cashier, and a manager made cashier loses the page at once."""
    cashier = await staff_chat(app, "c1", "cashier", branch_code="asoke", language_code="en")
    await cashier.say("/dashboard")
    assert "/admin/signin/" not in cashier.text()
    manager = await staff_chat(app, "m1", "manager", branch_code="asoke", language_code="en")
    async with console_client(app) as client:
        browser = await signed_in(client, manager)
        assert (await browser.get("/admin/settings")).status == 200
        async with app.uow() as uow:
            await raw_session(uow).execute(
                update(Staff).where(Staff.user_id == "m1").values(role="cashier")
            )
            await uow.commit()
        answer = await browser.get("/admin/settings")
        assert answer.status == 401
        assert 'id="quiet"' not in await answer.text()
        refused = await browser.post("/admin/settings/policy", {"field": "quiet", "value": "1-2"})
        assert refused.status == 401
    assert await changes(app) == 0


async def test_a_forged_settings_form_changes_nothing(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    async with console_client(app) as client:
        browser = await signed_in(client, owner)
        forged = await browser.post(
            "/admin/settings/policy", {"field": "quiet", "value": "22:00-08:00"}, csrf=False
        )
        assert forged.status == 403
        switch = await browser.post(
            "/admin/settings/automations/birthday/switch", {"csrf": "guess"}, csrf=False
        )
        assert switch.status == 403
    assert await changes(app) == 0


async def test_a_lifecycle_threshold_shows_the_counts_before_it_is_saved(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    await make_member(app, "Ploy", "081-234-5678")
    async with console_client(app) as client:
        browser = await signed_in(client, owner)
        await browser.get("/admin/settings")
        shown = await browser.post(
            "/admin/settings/lifecycle/preview", {"field": "new_days", "value": "45"}
        )
        assert shown.status == 200
        text = await shown.text()
        assert t("en", "report.group_new") in text
        assert 'name="value" value="45"' in text
        assert await changes(app) == 0  # nothing saved by looking
        await _refused(
            browser,
            "/admin/settings/lifecycle/preview",
            {"field": "regular_min", "value": "1"},
            t("en", "settings.bad_int", low="2", high="365"),
        )
        await _refused(
            browser,
            "/admin/settings/lifecycle",
            {"field": "returning_min", "value": "99"},
            t("en", "prefs.bad_lifecycle_order"),
        )
        await _saved(browser, "/admin/settings/lifecycle", {"field": "new_days", "value": "45"})
    assert (await stored(app, "lifecycle"))["new_days"] == 45
    [row] = await audit_rows(app, "settings.changed")
    assert (row.details["field"], row.details["after"]) == ("new_days", 45)


async def test_an_owner_changes_the_loyalty_rules_and_tiers(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    async with console_client(app) as client:
        browser = await signed_in(client, owner)
        page = await (await browser.get("/admin/settings")).text()
        assert 'id="rule-tiers"' in page
        await _saved(browser, "/admin/settings/rules", {"field": "baht_per_point", "value": "20"})
        await _saved(
            browser,
            "/admin/settings/rules",
            {"field": "tiers", "value": "member 0\nsilver 2000 1.2\ngold 8000 1.5"},
        )
        await _refused(
            browser,
            "/admin/settings/rules",
            {"field": "tiers", "value": "silver 2000"},
            t("en", "settings.bad_tiers", max=6),
        )
        unknown = await browser.post("/admin/settings/rules", {"field": "nope", "value": "1"})
        assert unknown.status == 404
    loyalty = await stored(app, "loyalty")
    assert loyalty["baht_per_point"] == "20"
    assert [tier["name"] for tier in loyalty["tiers"]] == ["member", "silver", "gold"]
    rows = await audit_rows(app, "settings.changed")
    assert [row.details["field"] for row in rows] == ["baht_per_point", "tiers"]


async def test_an_owner_adds_and_edits_a_reward(app: App) -> None:
    await ensure_branches(app, ("asoke", "siam"))
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    async with console_client(app) as client:
        browser = await signed_in(client, owner)
        await browser.get("/admin/settings")
        form = {
            "name_th": "กาแฟฟรี",
            "name_en": "Free coffee",
            "cost": "๑๐๐",
            "stock": "",
            "starts": "",
            "ends": "31/12/2569",
            "branch": "asoke",
            "days": "",
        }
        await _refused(
            browser,
            "/admin/settings/rewards/add",
            {**form, "cost": "0"},
            t("en", "settings.bad_int", low="1", high="1,000,000"),
        )
        await _refused(
            browser,
            "/admin/settings/rewards/add",
            {**form, "branch": "nowhere"},
            t("en", "error.unknown_branch", code="nowhere"),
        )
        await _saved(browser, "/admin/settings/rewards/add", form)
        async with app.uow() as uow:
            [reward] = await uow.rewards.all()
        assert (reward.name_en, reward.points_cost, reward.stock) == ("Free coffee", 100, None)
        assert list(reward.branch_codes) == ["asoke"]
        assert reward.valid_days == 30
        path = f"/admin/settings/rewards/{reward.id}"
        await _saved(browser, f"{path}/number", {"field": "stock", "value": "25"})
        await _saved(browser, f"{path}/switch", {})
        missing = await browser.post("/admin/settings/rewards/999/switch", {})
        assert missing.status == 404
    async with app.uow() as uow:
        [reward] = await uow.rewards.all()
    assert (reward.stock, reward.active) == (25, False)
    [created] = await audit_rows(app, "reward.created")
    assert created.channel == "web"
    updates = await audit_rows(app, "reward.updated")
    assert [(row.details["field"], row.details["after"]) for row in updates] == [
        ("stock", 25),
        ("active", False),
    ]


async def test_an_owner_writes_an_automations_message_and_gift(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    async with console_client(app) as client:
        browser = await signed_in(client, owner)
        page = await (await browser.get("/admin/settings")).text()
        assert 'id="birthday-text-th"' in page
        assert 'id="winback-kind"' in page
        await _saved(
            browser,
            "/admin/settings/automations/birthday/text",
            {"locale": "en", "value": "Happy birthday {name}!"},
        )
        refused = await browser.post(
            "/admin/settings/automations/birthday/text",
            {"locale": "en", "value": "Hi {nickname}"},
        )
        assert refused.status == 400
        assert "nickname" in await refused.text()
        await _saved(
            browser, "/admin/settings/automations/winback/gift", {"kind": "percent", "value": "15"}
        )
        await _saved(
            browser, "/admin/settings/automations/birthday/text", {"locale": "en", "value": ""}
        )
        no_gift = await browser.post(
            "/admin/settings/automations/expiry/gift", {"kind": "percent", "value": "15"}
        )
        assert no_gift.status == 404
    automations = await stored(app, "automations")
    assert automations["birthday"]["text_en"] == ""
    assert automations["winback"]["gift"] == {"kind": "percent", "value": "15"}
    fields = [row.details["field"] for row in await audit_rows(app, "settings.changed")]
    assert fields == ["text_en", "gift", "text_en"]
