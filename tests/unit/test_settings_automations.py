"""/settings → Automations: the owner switches automations and types their numbers."""

from __future__ import annotations

from typing import Any

from bot.bootstrap import App
from tests.unit.staff_support import audit_rows, member_chat, staff_chat


async def _stored(app: App, key: str = "automations") -> Any:
    async with app.uow() as uow:
        return await uow.settings.get(key)


async def test_the_list_shows_every_automation_with_its_state_and_numbers(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner")
    await owner.say("/settings")
    await owner.press("set:auto")
    text = owner.text()
    for label in ("อวยพรวันเกิด", "ชวนลูกค้ากลับมา", "เตือนคะแนนหมดอายุ", "ทบทวนระดับสมาชิก"):
        assert label in text
    assert "10:00" in text
    assert "หายไป 60 วัน" in text


async def test_a_toggle_switches_one_automation_off_and_audits_it(app: App) -> None:
    async with app.uow() as uow:
        await uow.settings.put("automations", {"expiry": {"remind_days": 14}}, app.clock.now())
        await uow.commit()
    owner = await staff_chat(app, "o1", "owner")
    await owner.press("set:aut:winback")
    assert await _stored(app) == {"expiry": {"remind_days": 14}, "winback": {"enabled": False}}
    [audit] = await audit_rows(app, "settings.changed")
    assert audit.details["automation"] == "winback"
    assert (audit.details["before"], audit.details["after"]) == (True, False)
    assert "⛔" in owner.text()


async def test_an_edited_number_is_validated_then_saved(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner")
    await owner.press("set:aup:winback")
    await owner.press("set:aue:winback:lapsed_days")
    await owner.say("3")
    assert "7" in owner.text()
    assert "730" in owner.text()
    assert await _stored(app) is None
    await owner.say("๔๕")
    assert await _stored(app) == {"winback": {"lapsed_days": 45}}
    [audit] = await audit_rows(app, "settings.changed")
    assert (audit.details["field"], audit.details["before"], audit.details["after"]) == (
        "lapsed_days",
        60,
        45,
    )


async def test_feedback_and_digest_keep_their_own_settings(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner")
    await owner.press("set:aue:digest:hour")
    await owner.say("7")
    await owner.press("set:aut:feedback")
    assert await _stored(app, "digest") == {"hour": 7}
    assert await _stored(app, "feedback") == {"enabled": False}
    assert await _stored(app) is None


async def test_a_cashier_cannot_switch_or_edit(app: App) -> None:
    cashier = await staff_chat(app, "c1", "cashier", branch_code="asoke")
    await cashier.press("set:aut:birthday")
    assert "ไม่มีสิทธิ์" in cashier.text()
    await cashier.press("set:aue:birthday:hour")
    await cashier.say("5")
    assert await _stored(app) is None
    assert await audit_rows(app, "settings.changed") == []


async def test_a_forged_button_from_a_customer_is_refused(app: App) -> None:
    member, _ = await member_chat(app, points=0)
    await member.press("set:aut:birthday")
    await member.press("setv:cancel")
    await member.say("5")
    assert await _stored(app) is None
    assert await audit_rows(app, "settings.changed") == []


async def test_an_owner_demoted_mid_edit_cannot_save(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner")
    await owner.press("set:aue:birthday:hour")
    async with app.uow() as uow:
        await uow.staff.add("telegram", "o1", "o1", "cashier", None, app.clock.now())
        await uow.commit()
    await owner.say("9")
    assert await _stored(app) is None


async def test_an_unknown_automation_button_is_expired(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner")
    await owner.press("set:aue:birthday:enabled")
    await owner.press("set:aut:nothing")
    assert "หมดอายุ" in owner.text()
    assert await _stored(app) is None


async def test_the_hold_out_of_a_notice_is_set_from_0_to_50(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner")
    await owner.press("set:aup:expiry")
    await owner.press("set:aue:expiry:holdout_pct")
    await owner.say("60")
    assert "50" in owner.text()
    assert await _stored(app) is None
    await owner.say("10")
    assert await _stored(app) == {"expiry": {"holdout_pct": 10}}
    await owner.press("set:aue:feedback:holdout_pct")
    await owner.say("20")
    assert await _stored(app, "feedback") == {"holdout_pct": 20}
    await owner.press("set:aue:tiers:holdout_pct")
    await owner.say("0")
    assert await _stored(app) == {"expiry": {"holdout_pct": 10}, "tiers": {"holdout_pct": 0}}


async def test_the_managers_digest_is_switched_off_without_touching_the_owners(
    app: App,
) -> None:
    async with app.uow() as uow:
        await uow.settings.put("digest", {"hour": 7}, app.clock.now())
        await uow.commit()
    owner = await staff_chat(app, "o1", "owner")
    await owner.press("set:aut:digest_managers")
    assert await _stored(app, "digest") == {"hour": 7, "managers": False}
    [audit] = await audit_rows(app, "settings.changed")
    assert (audit.details["field"], audit.details["before"], audit.details["after"]) == (
        "managers",
        True,
        False,
    )


async def test_a_birthday_greeting_hour_the_quiet_hours_hold_overnight_is_refused(
    app: App,
) -> None:
    """Under the default quiet hours (21:00-09:00) a greeting at 21:00 or 23:00 would wait
    for 09:00 the next day, after the birthday: refused in the owner's language. 06:00 waits
    for 09:00 the same day and 20:00 goes at once: both are fine, and without quiet hours
    every hour is."""
    for user, language, expected in (("o1", "th", "วันถัดไป"), ("o2", "en", "the next day")):
        owner = await staff_chat(app, user, "owner", language_code=language)
        await owner.press("set:aue:birthday:hour")
        for typed in ("21", "23"):
            await owner.say(typed)
            assert expected in owner.text()
            assert "21:00–09:00" in owner.text()
    assert await _stored(app) is None
    await owner.say("6")
    assert await _stored(app) == {"birthday": {"hour": 6}}
    await owner.press("set:aue:birthday:hour")
    await owner.say("20")
    assert await _stored(app) == {"birthday": {"hour": 20}}
    await owner.press("set:cpe:noquiet")
    await owner.press("set:aue:birthday:hour")
    await owner.say("23")
    assert await _stored(app) == {"birthday": {"hour": 23}}
