"""The console's campaign form filled by a Thai owner as Thai people write days, hours, dates
and offers: Thai digits, Buddhist Era years, Thai day names, ``๑+๑``, ``๔๐ บาท`` — and the
forms of days and hours that are standard Thai writing: weekday abbreviations carry a period
(``จ.-ศ.`` is Monday to Friday on every Thai shop sign) and a time range is often spaced
(``14:00 - 16:00``, as the quiet hours setting already reads it)."""

from __future__ import annotations

import pytest

from bot.bootstrap import App
from tests.domain.campaign_support import campaign_row
from tests.unit.admin_support import Browser, console_client, signed_in
from tests.unit.settings_support import stored
from tests.unit.staff_support import ensure_branch, staff_chat

#: the console's campaign form as an owner fills it (the wizard's answers on one form)
CAMPAIGN = {
    "name": "โปรบ่าย",
    "segment": "everyone",
    "message": "สวัสดีค่ะคุณ {name}",
    "offer": "buy_x_get_y",
    "value": "1-1",
    "title": "-",
    "dates": "7",
    "window": "",
    "branches": "",
    "cost": "40",
    "label": "",
    "when": "",
    "holdout": "10",
}


async def _saved(app: App, field: str, value: str) -> tuple[int, str]:
    await ensure_branch(app, "asoke")
    owner = await staff_chat(app, "o1", "owner", language_code="th")
    await owner.say("/segment new everyone visits >= 0")
    async with console_client(app) as client:
        browser: Browser = await signed_in(client, owner)
        await browser.get("/admin/campaigns/new")
        answer = await browser.post("/admin/campaigns/new", {**CAMPAIGN, field: value})
        return answer.status, await answer.text()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("window", "จันทร์-ศุกร์ 14-16"),
        ("window", "จ-ศ 14:00-16:00"),
        ("window", "ส,อา"),
        ("dates", "๑/๔/๒๕๖๙-๓๐/๔/๒๕๖๙"),
        ("dates", "1/4/2569 - 30/4/2569"),
        ("dates", "๗"),
        ("value", "๑+๑"),
        ("cost", "๔๐ บาท"),
    ],
)
async def test_days_dates_and_offers_as_thai_owners_write_them_are_saved(
    app: App, field: str, value: str
) -> None:
    status, page = await _saved(app, field, value)
    assert status == 303, page


@pytest.mark.parametrize(
    ("field", "value", "said"),
    [
        ("value", "ซื้อ 1 แถม 1", "1-1 คือซื้อ 1 แถม 1"),
        ("dates", "1 เม.ย. 2569 - 30 เม.ย. 2569", "วว/ดด/ปปปป"),
        ("window", "Mon-Fri 2pm-4pm", "2pm-4pm"),
        ("cost", "1,5", "บาท"),
    ],
)
async def test_what_the_form_cannot_read_is_refused_in_thai_with_an_example(
    app: App, field: str, value: str, said: str
) -> None:
    status, page = await _saved(app, field, value)
    assert status == 400
    assert said in page


async def test_thai_weekday_abbreviations_with_their_period_are_read(app: App) -> None:
    status, page = await _saved(app, "window", "จ.-ศ. 14-16")
    assert status == 303, page


async def test_an_hour_range_spaced_around_its_dash_is_read(app: App) -> None:
    status, page = await _saved(app, "window", "จ-ศ 14:00 - 16:00")
    assert status == 303, page


@pytest.mark.parametrize(("offer", "typed"), [("percent", "1,5"), ("bonus_points", "12,50")])
async def test_an_offer_with_a_decimal_comma_is_refused_not_read_ten_times_more(
    app: App, offer: str, typed: str
) -> None:
    """``1,5`` percent off is not 15%, ``12,50`` bonus points not 1,250: a comma separates
    thousands only, as in every number the shop reads."""
    await ensure_branch(app, "asoke")
    owner = await staff_chat(app, "o1", "owner", language_code="th")
    await owner.say("/segment new everyone visits >= 0")
    async with console_client(app) as client:
        browser: Browser = await signed_in(client, owner)
        await browser.get("/admin/campaigns/new")
        answer = await browser.post(
            "/admin/campaigns/new", {**CAMPAIGN, "offer": offer, "value": typed}
        )
        assert answer.status == 400
        assert "จำนวนเต็ม" in await answer.text()
        kept = await browser.post(
            "/admin/campaigns/new", {**CAMPAIGN, "offer": "bonus_points", "value": "1,000"}
        )
        assert kept.status == 303, await kept.text()
    async with app.uow() as uow:
        [campaign] = await uow.campaigns.recent(1)
    assert campaign.offer is not None
    assert campaign.offer["value"] == "1000"


async def test_the_chat_wizard_reads_the_window_as_the_console_form_does(app: App) -> None:
    """The same window, typed in the chat's /campaign wizard: Monday to Friday, 14 to 16."""
    manager = await staff_chat(app, "boss", "manager", language_code="th")
    await manager.say("/campaign new โปรบ่าย")
    await manager.say("points >= 0")
    await manager.say("สวัสดีค่ะคุณ {name}")
    await manager.press("cmpw:offer:buy_x_get_y")
    for answer in ("1-1", "-", "7", "จ.-ศ. 14:00 - 16:00", "-", "25", "-"):
        await manager.say(answer)
    await manager.press("cmpw:when:now")
    await manager.say("0")
    async with app.uow() as uow:
        [campaign] = await uow.campaigns.recent(1)
    offer = (await campaign_row(app, campaign.id)).offer
    assert offer is not None, manager.text()
    assert (offer["weekdays"], offer["hours"]) == ([0, 1, 2, 3, 4], [14, 16])


async def test_the_quiet_hours_read_an_hour_range_as_the_offer_window_does(app: App) -> None:
    """``22 - 8`` (whole hours, spaced) is the quiet hours 22:00-08:00, as ``14 - 16`` is an
    offer's window: one reading of an hour range."""
    owner = await staff_chat(app, "o1", "owner", language_code="th")
    async with console_client(app) as client:
        browser = await signed_in(client, owner)
        await browser.get("/admin/settings")
        saved = await browser.post("/admin/settings/policy", {"field": "quiet", "value": "22 - 8"})
        assert saved.status == 303, await saved.text()
    assert (await stored(app, "contact_policy"))["quiet_hours"] == ["22:00", "08:00"]
