"""A campaign whose offer is over by the time it would go out is not sent: ``/campaign send``
and the console refuse it in the staff member's language, scheduling it past the offer's last
day is refused, and a scheduled one the server could not start in time is cancelled with one
notice to the owners and managers. An offer's last day itself is still a day to send."""

from __future__ import annotations

from datetime import date

import pytest

from bot.bootstrap import App
from bot.core.clock import FrozenClock
from bot.core.wire import payload_to_replies
from jobs.scheduler import JOBS, tick
from shop.campaigns.launch import OfferEnded, segment_env, start_campaign
from storage.models import Campaign, OutboxMessage
from tests.domain.automation_support import bangkok
from tests.domain.campaign_support import make_campaign
from tests.unit.admin_support import console_client, signed_in
from tests.unit.staff_support import audit_rows, make_member, outbox_rows, staff_chat
from wording.campaigns import CampaignWording

START_DUE = [job for job in JOBS if job.id == "campaigns.start_due"]
#: 20% off, last day Tuesday 3 March 2026
ENDS_3_MARCH = {"kind": "percent", "value": "20", "valid_until": "2026-03-03"}


async def _status(app: App, campaign_id: int) -> Campaign:
    async with app.uow() as uow:
        campaign = await uow.campaigns.get(campaign_id)
    assert campaign is not None
    return campaign


async def _ended_draft(app: App, clock: FrozenClock, **fields: object) -> Campaign:
    await make_member(app, "Ploy", "0811111111", user_id="m1")
    clock.set(bangkok(2026, 3, 1, 12))
    return await make_campaign(app, holdout_pct=0, offer=ENDS_3_MARCH, **fields)


def _text(row: OutboxMessage) -> str:
    return "\n".join(reply.text or "" for reply in payload_to_replies(row.payload))


async def test_send_is_refused_at_once_in_thai_with_the_last_day(
    app: App, clock: FrozenClock
) -> None:
    manager = await staff_chat(app, "boss", "manager")
    campaign = await _ended_draft(app, clock)
    clock.set(bangkok(2026, 3, 5, 11))
    replies = await manager.say(f"/campaign send {campaign.id}")
    assert [button for reply in replies for button in reply.buttons] == []
    assert "3 มี.ค. 2569" in replies[0].text  # the Buddhist Era year
    assert "ผ่านไปแล้ว" in replies[0].text
    pressed = await manager.press(f"cmpa:send:{campaign.id}")  # an old confirmation button
    assert "3 มี.ค. 2569" in pressed[0].text
    assert (await _status(app, campaign.id)).status == "draft"
    assert await audit_rows(app, "campaign.sent") == []


async def test_send_is_refused_in_english_for_an_english_speaking_manager(
    app: App, clock: FrozenClock
) -> None:
    manager = await staff_chat(app, "boss", "manager", language_code="en")
    campaign = await _ended_draft(app, clock)
    clock.set(bangkok(2026, 3, 4, 0, 5))
    replies = await manager.press(f"cmpa:send:{campaign.id}")
    assert "last day was 3 Mar 2026" in replies[0].text
    assert await outbox_rows(app, f"cmp:{campaign.id}:") == []


async def test_the_offers_last_day_is_still_a_day_to_send(app: App, clock: FrozenClock) -> None:
    manager = await staff_chat(app, "boss", "manager")
    campaign = await _ended_draft(app, clock)
    clock.set(bangkok(2026, 3, 3, 23, 55))
    await manager.press(f"cmpa:send:{campaign.id}")
    assert len(await outbox_rows(app, f"cmp:{campaign.id}:")) == 1


async def test_scheduling_after_the_offers_last_day_is_refused(
    app: App, clock: FrozenClock
) -> None:
    manager = await staff_chat(app, "boss", "manager", language_code="en")
    campaign = await _ended_draft(app, clock, scheduled_at=bangkok(2026, 3, 4, 10))
    replies = await manager.say(f"/campaign send {campaign.id}")
    assert "cannot go out at" in replies[0].text
    assert "last day is 3 Mar 2026" in replies[0].text
    await manager.press(f"cmpa:send:{campaign.id}")
    assert (await _status(app, campaign.id)).status == "draft"


async def test_a_scheduled_campaign_too_late_for_its_offer_is_cancelled_and_the_staff_told_once(
    app: App, clock: FrozenClock
) -> None:
    await staff_chat(app, "boss", "owner")
    manager = await staff_chat(app, "mgr", "manager", language_code="en")
    await manager.say("/campaigns")  # the bot learns the manager's language
    await staff_chat(app, "till", "cashier")
    campaign = await _ended_draft(
        app, clock, status="scheduled", scheduled_at=bangkok(2026, 3, 3, 10)
    )
    clock.set(bangkok(2026, 3, 5, 11))  # the server was down from before 10:00 on the 3rd
    await tick(app, START_DUE)
    await tick(app, START_DUE)
    stored = await _status(app, campaign.id)
    assert (stored.status, stored.started_at) == ("cancelled", None)
    assert stored.finished_at == bangkok(2026, 3, 5, 11)
    assert await outbox_rows(app, f"cmp:{campaign.id}:") == []
    notices = await outbox_rows(app, "campaign:offer_ended:")
    assert sorted(row.user_id for row in notices) == ["boss", "mgr"]
    by_user = {row.user_id: _text(row) for row in notices}
    assert "3 มี.ค. 2569" in by_user["boss"]
    assert "ยกเลิก" in by_user["boss"]
    assert "Tea time" in by_user["mgr"]
    assert "3 Mar 2026" in by_user["mgr"]
    (entry,) = await audit_rows(app, "campaign.cancelled")
    assert entry.actor == "system"


async def test_start_campaign_itself_refuses_an_ended_offer_and_writes_nothing(
    app: App, clock: FrozenClock
) -> None:
    campaign = await _ended_draft(app, clock)
    now = bangkok(2026, 3, 4, 9)
    async with app.uow() as uow:
        env = await segment_env(uow, now, app.settings.tz)
        fresh = await uow.campaigns.get(campaign.id)
        assert fresh is not None
        with pytest.raises(OfferEnded) as raised:
            await start_campaign(uow, fresh, env, now, wording=CampaignWording())
    assert raised.value.last_day == date(2026, 3, 3)
    assert (await _status(app, campaign.id)).status == "draft"


async def test_the_console_shows_the_refusal(app: App, clock: FrozenClock) -> None:
    campaign = await _ended_draft(app, clock)
    clock.set(bangkok(2026, 3, 5, 11))
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    async with console_client(app) as client:
        browser = await signed_in(client, owner)  # type: ignore[arg-type]
        sent = await browser.post(f"/admin/campaigns/{campaign.id}/send", {"confirm": "yes"})
        page = await sent.text()
    assert sent.status == 200
    assert "last day was 3 Mar 2026" in page
    assert (await _status(app, campaign.id)).status == "draft"
