"""The console's campaign tools: a test send to the staff member's own chat, the message
rendered live as it is typed, the hold-out sized for a target uplift, and the automations'
messages on the settings page; each the chat's own code, with the refusals."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from markupsafe import escape

from bot.bootstrap import App
from bot.core.clock import FrozenClock
from bot.core.typed import MAX_MONEY
from bot.i18n import format_baht, t
from shop.campaigns.drafts import TEST_SEND_THROTTLE
from shop.campaigns.templates import TemplateError, validate_template
from tests.domain.campaign_support import make_campaign
from tests.unit.admin_support import Browser, console_client, signed_in
from tests.unit.sales_support import queued, texts
from tests.unit.staff_support import audit_rows, ensure_branches, make_member, staff_chat
from tests.unit.test_admin_campaigns import FORM, _campaigns, _owner_browser, _shop
from tests.unit.tracking_support import add_sale

THAI_NAME = "พลอย 🌸✨"
PREVIEW = "/admin/campaigns/message-preview"


def _escaped(text: str) -> str:
    return str(escape(text))


async def _draft(app: App, browser: Browser) -> int:
    await browser.get("/admin/campaigns/new")
    saved = await browser.post("/admin/campaigns/new", FORM)
    assert saved.status == 303, await saved.text()
    return (await _campaigns(app))[-1].id


@pytest.mark.parametrize("locale", ["th", "en"])
async def test_a_test_send_goes_to_the_viewers_own_chat_only(app: App, locale: str) -> None:
    await _shop(app)
    # the owner is also a member, on the chat they work from: the test shows their own name
    await make_member(app, THAI_NAME, "0899999999", user_id="o1", locale=locale)
    async with console_client(app) as client:
        browser = await _owner_browser(app, client, locale)
        campaign_id = await _draft(app, browser)
        preview = await (await browser.get(f"/admin/campaigns/{campaign_id}/preview")).text()
        assert t(locale, "admin_campaign_tools.test_send") in preview
        sent = await browser.post(f"/admin/campaigns/{campaign_id}/test", {})
        assert sent.status == 303
        location = sent.headers["Location"]
        assert location == f"/admin/campaigns/{campaign_id}/preview?done=tested"
        after = await (await browser.get(location)).text()
        assert _escaped(t(locale, "admin_campaign_tools.done_tested")) in after
    [test] = await queued(app, f"campaign-test:{campaign_id}:")
    assert (test.channel, test.user_id, test.member_id) == ("telegram", "o1", None)
    shown = texts(test)
    assert t(locale, "campaign.test_header", id=campaign_id) in shown
    assert f"คุณ{THAI_NAME} รับ" in shown  # the placeholder filled, the emoji intact
    assert "{name}" not in shown
    assert await queued(app, "cmp:") == []  # nothing for the campaign's stats
    assert (await _campaigns(app))[-1].status == "draft"
    [audited] = await audit_rows(app, "campaign.tested")
    assert audited.channel == "web"
    assert audited.actor.startswith("staff:")


async def test_the_console_test_is_the_chats_test(app: App) -> None:
    await _shop(app)
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    await owner.say("/segment new tea5 branch in (asoke)")
    async with console_client(app) as client:
        browser = await signed_in(client, owner)
        campaign_id = await _draft(app, browser)
        await browser.post(f"/admin/campaigns/{campaign_id}/test", {})
    [test] = await queued(app, f"campaign-test:{campaign_id}:")
    replies = await owner.say(f"/campaign test {campaign_id}")
    assert texts(test) == "\n".join(reply.text or "" for reply in replies)


async def test_a_test_send_to_a_blocked_chat_sends_nothing(app: App) -> None:
    await _shop(app)
    async with console_client(app) as client:
        browser = await _owner_browser(app, client, "en")
        campaign_id = await _draft(app, browser)
        owner_chat = await staff_chat(app, "o1", "owner", language_code="en")
        await owner_chat.unfollow()
        sent = await browser.post(f"/admin/campaigns/{campaign_id}/test", {})
        assert sent.headers["Location"].endswith("done=unreachable")
        after = await (await browser.get(sent.headers["Location"])).text()
        assert t("en", "admin_campaign_tools.done_unreachable") in after
    assert await queued(app, "campaign-test:") == []
    assert await audit_rows(app, "campaign.tested") == []


async def test_test_sends_are_throttled_per_staff_member(app: App, clock: FrozenClock) -> None:
    """Each is a push (a LINE message from the month's quota): five in ten minutes at most."""
    await _shop(app)
    async with console_client(app) as client:
        browser = await _owner_browser(app, client, "en")
        campaign_id = await _draft(app, browser)
        words = []
        for _ in range(TEST_SEND_THROTTLE.limit + 1):
            sent = await browser.post(f"/admin/campaigns/{campaign_id}/test", {})
            words.append(sent.headers["Location"].rsplit("=", 1)[1])
        assert words == ["tested"] * TEST_SEND_THROTTLE.limit + ["throttled"]
        after = await (await browser.get(sent.headers["Location"])).text()
        assert t("en", "admin_campaign_tools.done_throttled") in after
        clock.advance(TEST_SEND_THROTTLE.window)
        again = await browser.post(f"/admin/campaigns/{campaign_id}/test", {})
        assert again.headers["Location"].endswith("done=tested")
    assert len(await queued(app, "campaign-test:")) == TEST_SEND_THROTTLE.limit + 1


async def test_test_send_refusals(app: App) -> None:
    await _shop(app)
    cashier = await staff_chat(app, "c1", "cashier", branch_code="asoke")
    async with console_client(app) as client:
        assert (await client.post("/admin/campaigns/1/test", data={})).status == 401
        assert (await client.post(PREVIEW, data={"message": "hi"})).status == 401
        await cashier.say("/dashboard")
        assert "/admin/signin/" not in cashier.text()  # a cashier has no console
        browser = await _owner_browser(app, client, "en")
        campaign_id = await _draft(app, browser)
        forged = await browser.post(f"/admin/campaigns/{campaign_id}/test", {}, csrf=False)
        assert forged.status == 403
        forged_preview = await browser.post(PREVIEW, {"message": "hi"}, csrf=False)
        assert forged_preview.status == 403
        # campaigns are the whole shop's (as in the chat): an id that is not one is a 404
        assert (await browser.post("/admin/campaigns/999999/test", {})).status == 404
    assert await queued(app, "campaign-test:") == []
    assert await audit_rows(app, "campaign.tested") == []


async def _live(browser: Browser, message: str, **fields: str) -> dict[str, str]:
    response = await browser.post(PREVIEW, {"message": message, **fields})
    assert response.status == 200
    answer: dict[str, str] = json.loads(await response.text())
    return answer


@pytest.mark.parametrize("locale", ["th", "en"])
async def test_the_live_preview_renders_for_a_real_member(app: App, locale: str) -> None:
    await _shop(app, size=2)
    await make_member(app, THAI_NAME, "0899999999", user_id="newest", points=250)
    async with console_client(app) as client:
        browser = await _owner_browser(app, client, locale)
        page = await (await browser.get("/admin/campaigns/new")).text()
        assert 'src="/admin/static/campaign-preview.js"' in page
        assert "<script>" not in page  # no inline script
        answer = await _live(
            browser, "สวัสดีคุณ{name} มี {points} แต้ม {coupon}", offer="buy_x_get_y", value="1-1"
        )
        assert answer["text"].startswith(f"สวัสดีคุณ{THAI_NAME} มี 250 แต้ม ")
        assert "{coupon}" not in answer["text"]
        assert answer["heading"] == t(locale, "campaign.sample", name=THAI_NAME)
        assert answer["button"] == t("th", "campaign.default_button")  # the member's language
        typo = "Hi {nmae}!"
        bad = await _live(browser, typo)
        with pytest.raises(TemplateError) as refused:
            validate_template(typo)
        assert bad["error"] == t(locale, refused.value.key, **refused.value.params)
        assert "{nmae}" in bad["error"]


async def test_the_live_preview_without_members_uses_a_sample_one(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    async with console_client(app) as client:
        browser = await signed_in(client, owner)
        await browser.get("/admin/campaigns/new")
        answer = await _live(browser, "Dear {name}")
    assert answer["text"] == f"Dear {t('en', 'prefs.sample_name')}"


async def test_a_branch_managers_live_preview_shows_only_their_branchs_member(app: App) -> None:
    await make_member(app, "Asoke Ann", "0811111111", user_id="a", home_branch_code="asoke")
    await make_member(app, "Ratchada Ron", "0822222222", user_id="r", home_branch_code="ratchada")
    manager = await staff_chat(app, "m1", "manager", branch_code="asoke", language_code="en")
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    async with console_client(app) as client:
        ours = await signed_in(client, manager)
        await ours.get("/admin/campaigns/new")
        assert (await _live(ours, "Hi {name}"))["text"] == "Hi Asoke Ann"
        whole = await signed_in(client, owner)
        await whole.get("/admin/campaigns/new")
        assert (await _live(whole, "Hi {name}"))["text"] == "Hi Ratchada Ron"
        # a branch with no member of its own shows a sample member, never another branch's
        await ensure_branches(app, ("siam",))
        empty = await staff_chat(app, "m3", "manager", branch_code="siam", language_code="en")
        none_here = await signed_in(client, empty)
        await none_here.get("/admin/campaigns/new")
        assert (await _live(none_here, "Hi {name}"))["text"] == f"Hi {t('en', 'prefs.sample_name')}"


async def _spending_shop(app: App, count: int = 120) -> None:
    now = app.clock.now()
    for k in range(count):
        member = await make_member(app, f"m{k}", f"08{k:08d}", user_id=f"u{k}")
        if k % 2 == 0:
            await add_sale(app, member.id, str(50 + k % 9 * 20), now - timedelta(days=2))


@pytest.mark.parametrize(("locale", "typed"), [("en", "40"), ("th", "฿40")])
async def test_the_hold_out_sized_for_a_target_is_the_chats_answer(
    app: App, locale: str, typed: str
) -> None:
    await _spending_shop(app)
    owner = await staff_chat(app, "o1", "owner", language_code=locale)
    campaign = await make_campaign(app, holdout_pct=10)
    await owner.say(f"/campaign power {campaign.id} 40")
    chat_answer = owner.text()
    await owner.say(f"/campaign preview {campaign.id}")
    chat_preview = owner.text()
    async with console_client(app) as client:
        browser = await signed_in(client, owner)
        page = await (await browser.get(f"/admin/campaigns/{campaign.id}/preview")).text()
        assert 'id="holdout-form"' in page
        detectable = page.split('id="detectable">')[1].split("</p>")[0]
        assert detectable  # the minimum detectable uplift, as the chat's preview says it
        assert detectable in str(escape(chat_preview))
        assert "/campaign power" not in detectable  # the form takes the chat command's place
        sized = await browser.get(f"/admin/campaigns/{campaign.id}/preview?target={typed}")
        assert _escaped(chat_answer) in await sized.text()
        bad = await browser.get(f"/admin/campaigns/{campaign.id}/preview?target=zero")
        refusal = t(locale, "campaign.power_bad_amount", max=format_baht(MAX_MONEY, locale))
        assert _escaped(refusal) in await bad.text()


@pytest.mark.parametrize("locale", ["th", "en"])
async def test_the_settings_page_shows_each_automations_message(app: App, locale: str) -> None:
    await make_member(app, THAI_NAME, "0899999999", user_id="newest", points=300)
    owner = await staff_chat(app, "o1", "owner", language_code=locale)
    async with console_client(app) as client:
        browser = await signed_in(client, owner)
        page = await (await browser.get("/admin/settings")).text()
    assert _escaped(t(locale, "prefs.preview_for", name=THAI_NAME)) in page
    for name in ("birthday", "winback", "expiry"):
        await owner.press(f"set:atp:{name}")  # the chat's preview, in the member's Thai
        chat_message = owner.text().split("\n\n", 1)[1]
        shown = page.split(f'id="auto-preview-{name}-th">')[1].split("</div>")[0]
        assert shown == _escaped(chat_message)
        assert f'id="auto-preview-{name}-en"' in page
    assert THAI_NAME in page.split('id="auto-preview-birthday-th">')[1]


async def test_the_automations_preview_a_sample_member_in_an_empty_shop(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    async with console_client(app) as client:
        browser = await signed_in(client, owner)
        page = await (await browser.get("/admin/settings")).text()
    assert _escaped(t("en", "prefs.preview_for", name=t("en", "prefs.sample_name"))) in page


async def test_a_branch_managers_automation_previews_show_only_their_branchs_member(
    app: App,
) -> None:
    await make_member(app, "Asoke Ann", "0811111111", user_id="a", home_branch_code="asoke")
    # the shop's newest member is at another branch: a manager of asoke must not see them
    await make_member(app, "Ratchada Ron", "0822222222", user_id="r", home_branch_code="ratchada")
    manager = await staff_chat(app, "m1", "manager", branch_code="asoke", language_code="en")
    async with console_client(app) as client:
        browser = await signed_in(client, manager)
        shown = await (await browser.get("/admin/settings")).text()
    assert "Asoke Ann" in shown
    assert "Ratchada Ron" not in shown
