"""The console's campaigns: the form with the wizard's checks, the preview (reach, hold-out,
cost, a real member's message), send with a confirmation, the results page with ``/stats``'s
lines and the chart, cancel and resume; the refusals."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from bot.bootstrap import App
from shop.campaigns.launch import pause_campaign
from storage.models import Campaign, Sale
from storage.raw_session import session_of
from tests.unit.admin_support import Browser, console_client, signed_in
from tests.unit.staff_support import audit_rows, ensure_branches, make_member, staff_chat

FIVE = ("asoke", "sukhumvit", "phetchaburi", "ratchada", "dindaeng")
RULE = "branch in (" + ", ".join(FIVE) + ")"
FORM = {
    "name": "Weekday afternoons",
    "segment": "tea5",
    "message": "คุณ{name} รับ{coupon} ถึง {expires}",
    "offer": "buy_x_get_y",
    "value": "1-1",
    "title": "-",
    "dates": "7",
    "window": "mon-fri 14:00-16:00",
    "branches": "",
    "cost": "40",
    "label": "",
    "when": "",
    "holdout": "10",
}


async def _shop(app: App, size: int = 12) -> None:
    branches = await ensure_branches(app, (*FIVE, "siam"))
    for n in range(size):
        member = await make_member(app, f"Ploy{n}", f"081{n:07d}", user_id=f"{9000 + n}")
        async with app.uow() as uow:
            session_of(uow).add(
                Sale(
                    receipt_no=f"OLD-{n}",
                    member_id=member.id,
                    branch_id=branches[FIVE[n % 5] if n < size - 2 else "siam"],
                    amount=Decimal(120),
                    occurred_at=app.clock.now() - timedelta(days=21),
                    source="import",
                )
            )
            await uow.commit()


async def _campaigns(app: App) -> list[Campaign]:
    async with app.uow() as uow:
        result = await session_of(uow).execute(select(Campaign).order_by(Campaign.id))
        return list(result.scalars().all())


async def _owner_browser(app: App, client: object, locale: str = "en") -> Browser:
    owner = await staff_chat(app, "o1", "owner", language_code=locale)
    await owner.say(f"/segment new tea5 {RULE}")
    return await signed_in(client, owner)  # type: ignore[arg-type]


async def test_create_preview_send_and_see_results(app: App) -> None:
    await _shop(app)
    async with console_client(app) as client:
        browser = await _owner_browser(app, client)
        form = await browser.get("/admin/campaigns/new")
        assert "tea5" in await form.text()
        saved = await browser.post("/admin/campaigns/new", FORM)
        assert saved.status == 303, await saved.text()
        location = saved.headers["Location"]
        assert re.fullmatch(r"/admin/campaigns/\d+/preview", location)
        campaign = (await _campaigns(app))[0]
        assert campaign.status == "draft"
        assert campaign.holdout_pct == 10
        assert campaign.offer is not None
        assert campaign.offer["weekdays"] == [0, 1, 2, 3, 4]
        preview = await (await browser.get(location)).text()
        assert "Ploy" in preview  # the message rendered for a real member
        assert "{name}" not in preview.split('id="sample"')[1]
        assert "Hold-out" in preview or "hold-out" in preview
        unconfirmed = await browser.post(f"/admin/campaigns/{campaign.id}/send", {})
        assert "Tick the box" in await unconfirmed.text()
        assert (await _campaigns(app))[0].status == "draft"
        sent = await browser.post(f"/admin/campaigns/{campaign.id}/send", {"confirm": "yes"})
        page = await sent.text()
        assert sent.status == 200
        assert (await _campaigns(app))[0].status == "sending"
        assert 'id="results"' in page
        assert "<svg" in page
        listing = await (await browser.get("/admin/campaigns")).text()
        assert "Weekday afternoons" in listing
    created = await audit_rows(app, "campaign.created")
    assert created
    assert all(row.actor.startswith("staff:") for row in created)
    assert created[0].channel == "web"
    assert await audit_rows(app, "campaign.sent")
    viewed = await audit_rows(app, "stats.viewed")
    assert viewed
    assert viewed[-1].channel == "web"


async def test_bad_answers_are_refused_with_the_wizards_reason(app: App) -> None:
    await _shop(app)
    async with console_client(app) as client:
        browser = await _owner_browser(app, client, "th")
        await browser.get("/admin/campaigns/new")
        cases = {
            "holdout": "80",
            "window": "someday",
            "segment": "brnch in (asoke)",
            "when": "1/1/2000 10:00",
            "label": "x" * 30,
            "branches": "nowhere",
        }
        for field, value in cases.items():
            response = await browser.post("/admin/campaigns/new", FORM | {field: value})
            assert response.status == 400, field
            text = await response.text()
            assert 'id="error"' in text, field
            assert f'value="{value}"' in text or value in text  # what was typed stays
    assert await _campaigns(app) == []


async def test_a_forged_offer_kind_and_money_no_one_can_pay_are_refused(app: App) -> None:
    """A kind the form never lists was saved as a campaign with no offer at all; a cost of
    ``0.0000001`` was kept as ฿0; a ``nan`` discount was a 500. Each is refused, saving nothing."""
    await _shop(app)
    async with console_client(app) as client:
        browser = await _owner_browser(app, client)
        await browser.get("/admin/campaigns/new")
        for typed, said in (
            ({"offer": "free_lunch_forever"}, "is not a kind of offer."),
            ({"cost": "0.0000001"}, "(0 to 100,000, at most 2 decimals, e.g. 12.50)"),
            ({"cost": "nan"}, "(0 to 100,000, at most 2 decimals, e.g. 12.50)"),
            ({"offer": "baht", "value": "nan"}, "Type an amount in baht above 0"),
            ({"offer": "baht", "value": "0.001"}, "Type an amount in baht above 0"),
        ):
            response = await browser.post("/admin/campaigns/new", FORM | typed)
            assert response.status == 400, typed
            assert said in await response.text(), typed
    assert await _campaigns(app) == []


async def test_cancel_and_resume(app: App) -> None:
    await _shop(app)
    async with console_client(app) as client:
        browser = await _owner_browser(app, client)
        await browser.get("/admin/campaigns/new")
        await browser.post("/admin/campaigns/new", FORM)
        await browser.post("/admin/campaigns/new", FORM | {"name": "Second"})
        first, second = await _campaigns(app)
        await browser.get(f"/admin/campaigns/{first.id}/preview")
        await browser.post(f"/admin/campaigns/{first.id}/send", {"confirm": "yes"})
        async with app.uow() as uow:
            assert (await pause_campaign(uow, first.id, app.clock.now())).paused
            await uow.commit()
        page = await (await browser.get(f"/admin/campaigns/{first.id}")).text()
        assert f"/admin/campaigns/{first.id}/resume" in page
        resumed = await browser.post(f"/admin/campaigns/{first.id}/resume", {})
        assert resumed.status == 200
        assert (await _campaigns(app))[0].status == "sending"
        kept = await browser.post(f"/admin/campaigns/{second.id}/cancel", {})
        assert "Tick the box" in await kept.text()
        await browser.post(f"/admin/campaigns/{second.id}/cancel", {"confirm": "yes"})
    statuses = [c.status for c in await _campaigns(app)]
    assert statuses == ["sending", "cancelled"]
    assert await audit_rows(app, "campaign.resumed")
    assert await audit_rows(app, "campaign.cancelled")


async def test_refusals(app: App) -> None:
    await _shop(app)
    cashier = await staff_chat(app, "c1", "cashier", branch_code="asoke")
    async with console_client(app) as client:
        assert (await client.get("/admin/campaigns")).status == 401
        await cashier.say("/dashboard")
        assert "/admin/signin/" not in cashier.text()
        browser = await _owner_browser(app, client)
        await browser.get("/admin/campaigns/new")
        forged = await browser.post("/admin/campaigns/new", FORM, csrf=False)
        assert forged.status == 403
        await browser.post("/admin/campaigns/new", FORM)
        (campaign,) = await _campaigns(app)
        forged_send = await browser.post(
            f"/admin/campaigns/{campaign.id}/send", {"confirm": "yes"}, csrf=False
        )
        assert forged_send.status == 403
        for path in ("/admin/campaigns/999999", "/admin/campaigns/999999/preview"):
            assert (await browser.get(path)).status == 404
        missing = await browser.post("/admin/campaigns/999999/send", {"confirm": "yes"})
        assert missing.status == 404
    assert (await _campaigns(app))[0].status == "draft"


async def test_a_branch_manager_has_the_campaigns_the_chat_gives_them(app: App) -> None:
    """``/campaigns`` and ``/campaign`` are open to every manager in the chat."""
    await _shop(app)
    manager = await staff_chat(app, "m1", "manager", branch_code="asoke", language_code="th")
    await manager.say(f"/segment new tea5 {RULE}")
    async with console_client(app) as client:
        browser = await signed_in(client, manager)
        page = await browser.get("/admin/campaigns")
        assert page.status == 200
        assert "สร้างแคมเปญ" in await page.text()
