"""/settings → Automations → Message & gift: the owner writes the birthday, win-back and
expiry messages (campaign placeholders, both languages) and chooses the gifts; the jobs send
what was saved; a preview shows it for a real member; bad templates change nothing."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from bot.bootstrap import App
from bot.core.clock import FrozenClock
from jobs.automations.birthday import run_birthday
from jobs.automations.expiry import run_expiry
from jobs.automations.winback import run_winback
from storage.models import Campaign
from storage.raw_session import session_of
from tests.domain.automation_support import bangkok, outbox_for, run_days, set_automations
from tests.unit.sales_support import texts
from tests.unit.settings_support import changes, stored
from tests.unit.staff_support import audit_rows, make_member, staff_chat


async def _offer(app: App, kind: str) -> dict[str, object]:
    async with app.uow() as uow:
        campaign = (
            await session_of(uow).execute(select(Campaign).where(Campaign.kind == kind))
        ).scalar_one()
        assert campaign.offer is not None
        return dict(campaign.offer)


async def test_the_birthday_job_sends_the_owners_text_and_gift(
    app: App, clock: FrozenClock
) -> None:
    await set_automations(app, {"birthday": {"holdout_pct": 0}})
    clock.set(bangkok(2026, 3, 5, 9))
    ploy = await make_member(app, "Ploy", user_id="m1", birthday=date(1990, 3, 5))
    anna = await make_member(
        app, "Anna", "0812345699", user_id="m2", birthday=date(1991, 3, 5), locale="en"
    )
    owner = await staff_chat(app, "o1", "owner")
    await owner.press("set:aup:birthday")
    await owner.press("set:atx:birthday")
    await owner.press("set:ate:birthday:th")
    await owner.say("สุขสันต์วันเกิดคุณ{name} รับ {coupon} ถึง {expires} ที่ {shop}")
    assert "ตัวอย่างที่ Anna จะเห็น" in owner.text()  # the newest member
    assert "สุขสันต์วันเกิดคุณAnna" in owner.text()
    await owner.press("set:ate:birthday:en")
    await owner.say("Happy birthday {name}! {coupon} until {expires}")
    await owner.press("set:atg:birthday")
    await owner.press("set:atk:birthday:baht")
    await owner.say("50")
    assert "50" in owner.text()
    assert (await stored(app, "automations"))["birthday"]["gift"] == {
        "kind": "baht",
        "value": "50",
    }
    assert len(await audit_rows(app, "settings.changed")) == 3

    clock.set(bangkok(2026, 3, 5, 11))
    await run_birthday(app)
    [thai] = await outbox_for(app, ploy.id)
    assert "สุขสันต์วันเกิดคุณPloy" in texts(thai)
    assert "31 มี.ค. 2569" in texts(thai)
    [english] = await outbox_for(app, anna.id)
    assert texts(english).startswith("Happy birthday Anna! ")
    assert "31 Mar 2026" in texts(english)
    assert (await _offer(app, "automation:birthday"))["kind"] == "baht"
    assert (await _offer(app, "automation:birthday"))["value"] == "50"


async def test_the_win_back_job_sends_the_owners_message_and_offer(
    app: App, clock: FrozenClock
) -> None:
    await set_automations(app, {"winback": {"holdout_pct": 0}})
    clock.set(bangkok(2026, 1, 1, 11))
    cashier = await staff_chat(app, "c1", "cashier", branch_code="asoke")
    ploy = await make_member(app, "Ploy", user_id="m1")
    await cashier.say(f"/sale {ploy.member_code} 100")
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    await owner.press("set:ate:winback:th")
    await owner.say("คิดถึงคุณ{name} มารับ {coupon} นะคะ")
    await owner.press("set:atk:winback:bonus_points")
    await owner.say("200")
    clock.set(bangkok(2026, 3, 3, 11))
    await run_days(app, clock, run_winback, 1)
    [row] = await outbox_for(app, ploy.id)
    assert "คิดถึงคุณPloy มารับ" in texts(row)
    assert "200" in texts(row)
    offer = await _offer(app, "automation:winback")
    assert (offer["kind"], offer["value"]) == ("bonus_points", "200")


async def test_the_expiry_reminder_uses_the_owners_text(app: App, clock: FrozenClock) -> None:
    clock.set(bangkok(2026, 1, 10, 11))
    member = await make_member(app, "Ploy", user_id="m1", marketing=False)
    for day, points in ((10, 120), (20, 30)):
        clock.set(bangkok(2026, 1, day, 11))
        async with app.uow() as uow:
            await uow.points.append(member.id, points, "adjust", app.clock.now())
            await uow.commit()
    owner = await staff_chat(app, "o1", "owner")
    await owner.press("set:ate:expiry:th")
    await owner.say("คุณ{name} คะแนน {points} จะหมดอายุวันที่ {expires}")
    clock.set(bangkok(2026, 12, 11, 11))
    await run_days(app, clock, run_expiry, 11)  # both reminders fall in December
    first, second = await outbox_for(app, member.id, "autoexp:")
    assert texts(first) == "คุณPloy คะแนน 120 จะหมดอายุวันที่ 10 ม.ค. 2570"
    assert texts(second) == "คุณPloy คะแนน 30 จะหมดอายุวันที่ 20 ม.ค. 2570"


async def test_a_dash_brings_back_the_built_in_message(app: App) -> None:
    await set_automations(app, {"expiry": {"text_th": "ข้อความเก่า {points}"}})
    owner = await staff_chat(app, "o1", "owner")
    await owner.press("set:ate:expiry:th")
    await owner.say("-")
    assert (await stored(app, "automations"))["expiry"]["text_th"] == ""
    assert "(ข้อความของระบบ)" in owner.text()


async def test_a_preview_without_members_uses_a_sample_one(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    await owner.press("set:atx:winback")
    assert "{name}" in owner.text()  # the placeholders the owner may use
    await owner.press("set:atp:winback")
    assert "As Somsri (sample) will see it:" in owner.text()
    assert "We miss you, Somsri (sample)" in owner.text()


async def test_a_template_with_an_unknown_placeholder_is_refused_in_both_languages(
    app: App,
) -> None:
    for user, language, expected in (("o1", "th", "{balance}"), ("o2", "en", "{balance}")):
        owner = await staff_chat(app, user, "owner", language_code=language)
        await owner.press("set:ate:birthday:" + language)
        await owner.say("Hi {name}, you have {balance} points")
        assert expected in owner.text()
        assert "{points}" in owner.text()  # what may be used instead
        await owner.say("Hi {name")
        assert "{" in owner.text()
    assert await stored(app, "automations") is None
    assert await changes(app) == 0


async def test_a_bad_gift_value_is_refused_and_changes_nothing(app: App) -> None:
    for user, language, expected in (("o1", "th", "%"), ("o2", "en", "%")):
        owner = await staff_chat(app, user, "owner", language_code=language)
        await owner.press("set:atk:birthday:percent")
        await owner.say("150")
        assert expected in owner.text()
    owner = await staff_chat(app, "o3", "owner")
    await owner.press("set:atk:expiry:percent")  # the expiry reminder gives no gift
    assert "หมดอายุ" in owner.text()
    assert await stored(app, "automations") is None
    assert await changes(app) == 0


async def test_a_cashier_cannot_write_an_automation_message(app: App) -> None:
    cashier = await staff_chat(app, "c1", "cashier", branch_code="asoke")
    await cashier.press("set:ate:birthday:th")
    await cashier.say("hello {name}")
    assert await stored(app, "automations") is None
    assert await changes(app) == 0


async def test_the_expiry_preview_shows_a_real_members_points_and_date(
    app: App, clock: FrozenClock
) -> None:
    clock.set(bangkok(2026, 3, 3, 11))
    await make_member(app, "Ploy", user_id="m1", points=80, locale="en")
    owner = await staff_chat(app, "o1", "owner")
    await owner.press("set:ate:expiry:en")
    await owner.say("{name}, {points} points expire on {expires}.")
    assert "Ploy, 80 points expire on 2 Apr 2026." in owner.text()  # 30 days ahead
    await owner.press("set:atp:expiry")  # in the member's own language
    assert "Ploy, 80 points expire on 2 Apr 2026." in owner.text()
