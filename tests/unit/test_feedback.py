"""Post-purchase feedback: asked once per sale N hours later (never in quiet hours), stars and a
comment from the member, low ratings alerting the right branch at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.bootstrap import App
from bot.core.clock import FrozenClock
from bot.i18n import t, tn
from jobs.feedback import run_feedback
from tests.unit.inbox_support import add_sale, dispatcher, feedback_rows, threads
from tests.unit.sales_support import actions_of, queued, texts
from tests.unit.staff_support import audit_rows, member_chat, staff_chat


async def test_the_question_is_queued_after_three_hours_with_five_star_buttons(
    app: App, clock: FrozenClock
) -> None:
    _, member = await member_chat(app)
    sale_id = await add_sale(app, member.id, "ratchada", clock.now())
    clock.advance(timedelta(hours=2, minutes=59))
    assert await run_feedback(app) == {"asked": 0, "skipped": 0}
    clock.advance(timedelta(minutes=1))
    assert await run_feedback(app) == {"asked": 1, "skipped": 0}
    [row] = await queued(app, f"feedback:{sale_id}")
    [feedback] = await feedback_rows(app)
    assert row.user_id == "m1"
    assert not row.promotional
    assert "รัชดา" in texts(row)
    assert actions_of(row) == [f"fb:{feedback.id}:{n}" for n in range(1, 6)]


async def test_a_sale_is_asked_about_once_however_often_the_job_runs(
    app: App, clock: FrozenClock
) -> None:
    _, member = await member_chat(app)
    await add_sale(app, member.id, "ratchada", clock.now())
    clock.advance(timedelta(hours=3))
    await run_feedback(app)
    clock.advance(timedelta(hours=1))
    assert await run_feedback(app) == {"asked": 0, "skipped": 0}
    assert len(await feedback_rows(app)) == 1
    assert len(await queued(app, "feedback:")) == 1


async def test_voided_and_anonymous_sales_are_not_asked_about(app: App, clock: FrozenClock) -> None:
    _, member = await member_chat(app)
    await add_sale(app, member.id, "ratchada", clock.now(), voided=True)
    await add_sale(app, None, "ratchada", clock.now() + timedelta(seconds=1))
    clock.advance(timedelta(hours=3, seconds=1))
    assert await run_feedback(app) == {"asked": 0, "skipped": 0}
    assert await feedback_rows(app) == []


async def test_a_question_due_in_quiet_hours_waits_for_their_end(
    app: App, clock: FrozenClock
) -> None:
    clock.set(datetime(2026, 3, 3, 12, 0, tzinfo=UTC))  # 19:00 in Bangkok
    _, member = await member_chat(app)
    await add_sale(app, member.id, "ratchada", clock.now())
    clock.advance(timedelta(hours=3))  # 22:00 in Bangkok: quiet
    assert (await run_feedback(app))["asked"] == 1
    [row] = await queued(app, "feedback:")
    assert row.not_before == datetime(2026, 3, 4, 2, 0, tzinfo=UTC)  # 09:00 in Bangkok
    disp, telegram, _ = dispatcher(app)
    await disp.drain_once()
    assert telegram.pushes == []


async def test_a_low_rating_reaches_the_branch_managers_and_owner_in_one_dispatcher_cycle(
    app: App, clock: FrozenClock
) -> None:
    await staff_chat(app, "own1", "owner")
    await staff_chat(app, "mgr-r", "manager", "ratchada")
    await staff_chat(app, "mgr-d", "manager", "dindaeng")
    await staff_chat(app, "cash-r", "cashier", "ratchada")
    chat, member = await member_chat(app)
    await add_sale(app, member.id, "ratchada", clock.now())
    clock.advance(timedelta(hours=3))
    await run_feedback(app)
    [feedback] = await feedback_rows(app)
    await chat.press(f"fb:{feedback.id}:2")
    disp, telegram, _ = dispatcher(app)
    await disp.drain_once()
    told = {push.user_id for push in telegram.pushes if "★★" in push.texts[0]}
    assert told == {"own1", "mgr-r"}
    [thread] = await threads(app)
    alerts = await queued(app, f"feedback:{feedback.id}:low")
    assert all(f"ibr:{thread.id}" in actions_of(row) for row in alerts)


async def test_a_good_rating_alerts_nobody_and_the_comment_is_stored(
    app: App, clock: FrozenClock
) -> None:
    await staff_chat(app, "own1", "owner")
    chat, member = await member_chat(app)
    await add_sale(app, member.id, "ratchada", clock.now())
    clock.advance(timedelta(hours=3))
    await run_feedback(app)
    [feedback] = await feedback_rows(app)
    await chat.press(f"fb:{feedback.id}:5")
    await chat.say("อร่อยมากค่ะ")
    [stored] = await feedback_rows(app)
    assert (stored.rating, stored.comment) == (5, "อร่อยมากค่ะ")
    assert stored.answered_at == clock.now()
    assert await queued(app, f"feedback:{feedback.id}:low") == []
    assert await threads(app) == []  # the comment is not an inbox message
    assert len(await audit_rows(app, "feedback.rated")) == 1


async def test_the_comment_can_be_skipped_and_a_second_rating_is_refused(
    app: App, clock: FrozenClock
) -> None:
    chat, member = await member_chat(app)
    await add_sale(app, member.id, "ratchada", clock.now())
    clock.advance(timedelta(hours=3))
    await run_feedback(app)
    [feedback] = await feedback_rows(app)
    await chat.press(f"fb:{feedback.id}:4")
    await chat.press("fbc:skip")
    await chat.press(f"fb:{feedback.id}:1")
    [stored] = await feedback_rows(app)
    assert (stored.rating, stored.comment) == (4, None)
    assert await queued(app, f"feedback:{feedback.id}:low") == []


async def test_a_member_cannot_rate_someone_elses_visit(app: App, clock: FrozenClock) -> None:
    _, owner_of_sale = await member_chat(app)
    other, _ = await member_chat(app, "Nok", "089-999-0000", user_id="m2")
    await add_sale(app, owner_of_sale.id, "ratchada", clock.now())
    clock.advance(timedelta(hours=3))
    await run_feedback(app)
    [feedback] = await feedback_rows(app)
    await other.press(f"fb:{feedback.id}:1")
    [stored] = await feedback_rows(app)
    assert stored.rating is None
    assert await queued(app, f"feedback:{feedback.id}:low") == []


async def test_report_shows_the_rating_per_branch_and_the_inbox_response_time(
    app: App, clock: FrozenClock
) -> None:
    owner = await staff_chat(app, "own1", "owner")
    chat, member = await member_chat(app)
    for hours in (0, 1):
        await add_sale(app, member.id, "ratchada", clock.now() + timedelta(hours=hours))
    clock.advance(timedelta(hours=4))
    await run_feedback(app)
    first, second = await feedback_rows(app)
    await chat.press(f"fb:{first.id}:2")
    await chat.press("fbc:skip")
    await chat.press(f"fb:{second.id}:5")
    await chat.press("fbc:skip")
    [thread] = await threads(app)  # opened by the low rating
    clock.advance(timedelta(minutes=90))
    await owner.press(f"ibr:{thread.id}")
    await owner.say("ขออภัยค่ะ")
    text = (await owner.say("/report"))[0].text
    assert tn("th", "feedback.report_line", 2, branch="รัชดา", average="3.5", low=1) in text
    assert tn("th", "inbox2.report_line", 1, wait=t("th", "inbox2.hours", n=1)) in text
