"""A campaign's ``{shop}`` reads the shop's name in each recipient's language — sent from the
chat, started by the scheduler, or written by the owner for an automation — not the name in the
shop's default language for everyone."""

from __future__ import annotations

from datetime import date, timedelta

from bot.bootstrap import App
from bot.core.clock import FrozenClock
from jobs.automations.birthday import run_birthday
from jobs.campaigns import start_due_campaigns
from tests.domain.automation_support import bangkok, outbox_for, set_automations
from tests.domain.campaign_support import make_campaign
from tests.unit.sales_support import texts
from tests.unit.staff_support import make_member, staff_chat

THAI_NAME = "ชาไทย ป้าแดง"
ENGLISH_NAME = "Auntie Daeng's Thai Tea"


async def _named_shop(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner")
    await owner.press("shp:name")
    await owner.say(THAI_NAME)
    await owner.say(ENGLISH_NAME)


async def _members(app: App) -> tuple[int, int]:
    ploy = await make_member(app, "Ploy", user_id="m1")
    anna = await make_member(app, "Anna", "0812345699", user_id="m2", locale="en")
    return ploy.id, anna.id


async def _assert_each_reads_their_own(app: App, ploy: int, anna: int) -> None:
    [thai] = await outbox_for(app, ploy)
    [english] = await outbox_for(app, anna)
    assert THAI_NAME in texts(thai)
    assert ENGLISH_NAME in texts(english)
    assert THAI_NAME not in texts(english)


async def test_a_campaign_sent_from_the_chat_names_the_shop_in_each_language(app: App) -> None:
    await _named_shop(app)
    ploy, anna = await _members(app)
    campaign = await make_campaign(app, message="{shop}: {name}, {coupon}!", holdout_pct=0)
    manager = await staff_chat(app, "mg", "manager", language_code="en")
    await manager.say(f"/campaign send {campaign.id}")
    await manager.press(f"cmpa:send:{campaign.id}")
    assert f"Campaign #{campaign.id} is going out" in manager.text()
    await _assert_each_reads_their_own(app, ploy, anna)


async def test_a_scheduled_campaign_names_the_shop_in_each_language(
    app: App, clock: FrozenClock
) -> None:
    await _named_shop(app)
    ploy, anna = await _members(app)
    at = clock.now() + timedelta(hours=1)
    campaign = await make_campaign(
        app, message="{shop}: {name}!", status="scheduled", scheduled_at=at, holdout_pct=0
    )
    clock.advance(timedelta(hours=1))
    assert await start_due_campaigns(app) == [campaign.id]
    await _assert_each_reads_their_own(app, ploy, anna)


async def test_an_automation_text_names_the_shop_in_each_language(
    app: App, clock: FrozenClock
) -> None:
    await _named_shop(app)
    await set_automations(app, {"birthday": {"holdout_pct": 0}})
    clock.set(bangkok(2026, 3, 5, 9))
    ploy = await make_member(app, "Ploy", user_id="m1", birthday=date(1990, 3, 5))
    anna = await make_member(
        app, "Anna", "0812345699", user_id="m2", birthday=date(1991, 3, 5), locale="en"
    )
    owner = await staff_chat(app, "o1", "owner")
    await owner.press("set:ate:birthday:th")
    await owner.say("สุขสันต์วันเกิดคุณ{name} จาก {shop}")
    await owner.press("set:ate:birthday:en")
    await owner.say("Happy birthday {name}, from {shop}")
    clock.set(bangkok(2026, 3, 5, 11))
    await run_birthday(app)
    await _assert_each_reads_their_own(app, ploy.id, anna.id)
