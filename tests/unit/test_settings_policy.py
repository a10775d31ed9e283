"""/settings → Quiet hours & caps: the owner changes the contact policy in the chat, the
dispatcher and the eligibility query follow it, refused values change nothing, managers only
read it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.bootstrap import App
from bot.core.clock import FrozenClock
from bot.core.messages import Channel, Reply
from bot.core.wire import replies_to_payload
from jobs.dispatcher import OutboxDispatcher
from tests.unit.dispatcher_support import FakeTelegram
from tests.unit.settings_support import changes, exclusion, stored
from tests.unit.staff_support import audit_rows, make_member, staff_chat

#: 22:00 in Bangkok: quiet under the default 21:00-09:00, not under 23:00-07:00
TEN_PM = datetime(2026, 3, 3, 15, 0, tzinfo=UTC)
#: 06:30 in Bangkok the next morning: quiet under 23:00-07:00 (a window across midnight)
SIX_THIRTY = datetime(2026, 3, 3, 23, 30, tzinfo=UTC)


async def _promotion(app: App, key: str) -> None:
    async with app.uow() as uow:
        payload = replies_to_payload([Reply(text=key)])
        now = app.clock.now()
        await uow.outbox.enqueue(key, "telegram", "1", payload, now, promotional=True)
        await uow.commit()


async def test_new_quiet_hours_across_midnight_steer_the_dispatcher(
    app: App, clock: FrozenClock
) -> None:
    owner = await staff_chat(app, "o1", "owner")
    await owner.say("/settings")
    await owner.press("set:cp")
    assert "21:00–09:00" in owner.text()
    await owner.press("set:cpe:quiet")
    await owner.say("23.00 - 7.00")
    assert "23:00–07:00" in owner.text()
    assert (await stored(app, "contact_policy"))["quiet_hours"] == ["23:00", "07:00"]
    [audit] = await audit_rows(app, "settings.changed")
    assert audit.details["before"] == ["21:00", "09:00"]
    assert audit.details["after"] == ["23:00", "07:00"]

    telegram = FakeTelegram()
    dispatcher = OutboxDispatcher(app.uow, clock, {Channel.TELEGRAM: telegram})
    clock.set(TEN_PM)
    await _promotion(app, "cmp:1:1")
    assert (await dispatcher.drain_once()).sent == 1  # 22:00 is no longer quiet
    clock.set(SIX_THIRTY)
    await _promotion(app, "cmp:1:2")
    result = await dispatcher.drain_once()
    assert (result.sent, result.deferred) == (0, 1)
    async with app.uow() as uow:
        row = await uow.outbox.by_key("cmp:1:2")
    assert row is not None
    assert row.not_before == datetime(2026, 3, 4, 0, 0, tzinfo=UTC)  # 07:00 in Bangkok


@pytest.mark.parametrize(
    ("typed", "th", "en"),
    [
        ("9 pm to 9 am", "21:00-09:00", "21:00-09:00"),
        ("25:00-07:00", "24 ชั่วโมง", "24-hour"),
        ("22:00-22:00", "ไม่เท่ากัน", "different times"),
    ],
)
async def test_unreadable_quiet_hours_are_explained_and_change_nothing(
    app: App, typed: str, th: str, en: str
) -> None:
    for user, language, expected in (("o1", "th", th), ("o2", "en", en)):
        owner = await staff_chat(app, user, "owner", language_code=language)
        await owner.press("set:cpe:quiet")
        await owner.say(typed)
        assert expected in owner.text()
    assert await stored(app, "contact_policy") is None
    assert await changes(app) == 0


async def test_a_group_cap_change_changes_who_may_get_a_promotion(app: App) -> None:
    ploy = await make_member(app, "Ploy", user_id="m1")  # joined today: "new"
    assert await exclusion(app, ploy.id) is None
    owner = await staff_chat(app, "o1", "owner")
    await owner.press("set:cpe:cap:new")
    await owner.say("0")
    assert await exclusion(app, ploy.id) == "frequency_cap"
    assert (await stored(app, "contact_policy"))["caps"] == {"new": 0}
    [audit] = await audit_rows(app, "settings.changed")
    assert (audit.details["group"], audit.details["before"], audit.details["after"]) == (
        "new",
        2,
        0,
    )


async def test_the_cap_window_decides_which_promotions_count(app: App, clock: FrozenClock) -> None:
    ploy = await make_member(app, "Ploy", user_id="m1")
    async with app.uow() as uow:
        payload = replies_to_payload([Reply(text="old promotion")])
        five_days_ago = clock.now() - timedelta(days=5)
        await uow.outbox.enqueue(
            "cmp:9:1", "telegram", "m1", payload, five_days_ago, ploy.id, promotional=True
        )
        await uow.commit()
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    await owner.press("set:cpe:cap:new")
    await owner.say("1")
    assert await exclusion(app, ploy.id) == "frequency_cap"  # one promotion in the last 7 days
    await owner.press("set:cpe:days")
    await owner.say("91")
    assert "1 to 90" in owner.text()
    await owner.say("3")
    assert "3 days" in owner.text()
    assert await exclusion(app, ploy.id) is None  # that promotion is 5 days old
    assert (await stored(app, "contact_policy"))["cap_days"] == 3


async def test_a_bad_cap_is_refused_in_both_languages(app: App) -> None:
    for user, language, expected in (("o1", "th", "0 ถึง 50"), ("o2", "en", "0 to 50")):
        owner = await staff_chat(app, user, "owner", language_code=language)
        await owner.press("set:cpe:cap:fan")
        await owner.say("51")
        assert expected in owner.text()
        await owner.say("three")
        assert expected in owner.text()
    await owner.press("set:cpe:cap:vip")  # no such group
    assert "expired" in owner.text()
    assert await stored(app, "contact_policy") is None
    assert await changes(app) == 0


async def test_a_manager_reads_the_policy_but_cannot_change_it(app: App) -> None:
    manager = await staff_chat(app, "m9", "manager", branch_code="asoke", language_code="en")
    await manager.say("/settings")
    text = manager.text()
    assert "21:00–09:00" in text
    assert "New: joined within (days): 30" in text
    assert "Only the owner" in text
    assert "• member: Member" in text  # tier names in the manager's own language
    assert [b for reply in manager.last for b in reply.buttons] == []
    await manager.press("set:cpe:quiet")
    await manager.say("23:00-07:00")
    await manager.press("set:lce:new_days")
    await manager.say("45")
    await manager.press("set:tne:0:en")
    await manager.say("Basic")
    await manager.press("set:atx:birthday")  # the automations' messages stay the owner's
    assert "Birthday greeting" not in manager.text()
    await manager.press("set:ate:birthday:en")
    await manager.say("Hi {name}")
    assert await stored(app, "contact_policy") is None
    assert await stored(app, "automations") is None
    assert await changes(app) == 0


async def test_an_owner_demoted_while_typing_quiet_hours_cannot_save_them(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner")
    await owner.press("set:cpe:quiet")
    async with app.uow() as uow:
        await uow.staff.add("telegram", "o1", "o1", "manager", None, app.clock.now())
        await uow.commit()
    await owner.say("23:00-07:00")
    assert await stored(app, "contact_policy") is None
    assert await changes(app) == 0


#: 23:30 in Bangkok: quiet under the default 21:00-09:00
HALF_PAST_ELEVEN = datetime(2026, 3, 3, 16, 30, tzinfo=UTC)


async def test_quiet_hours_switched_off_let_a_promotion_go_at_half_past_eleven(
    app: App, clock: FrozenClock
) -> None:
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    await owner.say("/settings")
    await owner.press("set:cp")
    await owner.press_label("Quiet hours")
    await owner.press_label("No quiet hours")
    assert "Quiet hours: none" in owner.text()
    [audit] = await audit_rows(app, "settings.changed")
    assert (audit.details["field"], audit.details["before"], audit.details["after"]) == (
        "quiet_hours",
        ["21:00", "09:00"],
        ["00:00", "00:00"],
    )
    telegram = FakeTelegram()
    dispatcher = OutboxDispatcher(app.uow, clock, {Channel.TELEGRAM: telegram})
    clock.set(HALF_PAST_ELEVEN)
    await _promotion(app, "cmp:1:1")
    result = await dispatcher.drain_once()
    assert (result.sent, result.deferred) == (1, 0)

    await owner.press("set:cpe:quiet")
    await owner.say("22:00-08:00")
    assert "22:00–08:00" in owner.text()
    await _promotion(app, "cmp:1:2")
    result = await dispatcher.drain_once()
    assert (result.sent, result.deferred) == (0, 1)
    assert len(await audit_rows(app, "settings.changed")) == 2


async def test_the_same_start_and_end_is_refused_and_points_to_the_button(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner", language_code="th")
    await owner.press("set:cpe:quiet")
    await owner.say("22:00-22:00")
    assert "ไม่มีช่วงงดส่ง" in owner.text()
    assert await stored(app, "contact_policy") is None
    await owner.press_label("ไม่มีช่วงงดส่ง")
    assert "ช่วงงดส่ง: ไม่มี" in owner.text()
    assert (await stored(app, "contact_policy"))["quiet_hours"] == ["00:00", "00:00"]


async def test_quiet_hours_holding_the_birthday_greeting_overnight_are_refused(app: App) -> None:
    """The greeting goes at 20:00: quiet hours 19:00-08:00 or 20:00-08:00 would hold it until
    08:00 the next day, after the birthday; both are refused with the reason, in the owner's
    language. 21:00-08:00 leaves 20:00 free and 12:00-20:30 (within the day) only delays it to
    20:30 the same day: both are accepted."""
    async with app.uow() as uow:
        await uow.settings.put("automations", {"birthday": {"hour": 20}}, app.clock.now())
        await uow.commit()
    for user, language, expected in (
        ("o1", "th", "ครอบคลุม 20:00"),
        ("o2", "en", "cover 20:00, when the birthday greeting goes out"),
    ):
        owner = await staff_chat(app, user, "owner", language_code=language)
        await owner.press("set:cpe:quiet")
        for typed in ("19:00-08:00", "20:00-08:00"):
            await owner.say(typed)
            assert expected in owner.text()
    assert await stored(app, "contact_policy") is None
    assert await changes(app) == 0
    await owner.say("21:00-08:00")
    assert (await stored(app, "contact_policy"))["quiet_hours"] == ["21:00", "08:00"]
    await owner.press("set:cpe:quiet")
    await owner.say("12:00-20:30")
    assert (await stored(app, "contact_policy"))["quiet_hours"] == ["12:00", "20:30"]
