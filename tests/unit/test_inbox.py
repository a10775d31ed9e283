"""The two-way inbox: threads, staff alerts (not one per message), answers, closing, /inbox,
and who may use which button."""

from __future__ import annotations

from datetime import timedelta

from bot.bootstrap import App
from bot.core.clock import FrozenClock
from bot.core.messages import Channel
from bot.i18n import t
from tests.chat import Chat
from tests.unit.inbox_support import dispatcher, thread_messages, threads
from tests.unit.sales_support import actions_of, queued, texts
from tests.unit.staff_support import audit_rows, member_chat, staff_chat


async def test_a_first_message_opens_a_thread_and_alerts_the_home_branch_staff(
    app: App, clock: FrozenClock
) -> None:
    await staff_chat(app, "own1", "owner")
    await staff_chat(app, "mgr-r", "manager", "ratchada")
    await staff_chat(app, "mgr-d", "manager", "dindaeng")
    chat, _ = await member_chat(app, home_branch_code="ratchada")
    await chat.say("พรุ่งนี้ร้านเปิดกี่โมงคะ")
    assert chat.text() == t("th", "inbox.received")
    [thread] = await threads(app)
    assert thread.status == "open"
    assert thread.opened_at == clock.now()
    disp, telegram, _ = dispatcher(app)
    await disp.drain_once()
    assert {p.user_id for p in telegram.pushes} == {"own1", "mgr-r"}
    [alert, *_] = await queued(app, f"inbox:{thread.id}:a")
    assert "พรุ่งนี้ร้านเปิดกี่โมงคะ" in texts(alert)
    assert actions_of(alert) == [f"ibr:{thread.id}", f"ibc:{thread.id}"]


async def test_more_messages_join_the_thread_without_new_alerts_or_acknowledgements(
    app: App, clock: FrozenClock
) -> None:
    await staff_chat(app, "own1", "owner")
    chat, _ = await member_chat(app)
    await chat.say("hello")
    clock.advance(timedelta(minutes=30))
    assert await chat.say("are you there?") == []
    [thread] = await threads(app)
    assert [m.text for m in await thread_messages(app, thread.id)] == ["hello", "are you there?"]
    assert len(await queued(app, "inbox:")) == 1


async def test_a_staff_answer_reaches_the_customer_and_records_the_response_time(
    app: App, clock: FrozenClock
) -> None:
    owner = await staff_chat(app, "own1", "owner")
    chat, member = await member_chat(app)
    await chat.say("hello")
    [thread] = await threads(app)
    clock.advance(timedelta(minutes=7))
    await owner.press(f"ibr:{thread.id}")
    assert "hello" in owner.text()
    await owner.say("สวัสดีค่ะ เปิด 10 โมงค่ะ")
    assert owner.text() == t("th", "inbox2.sent")
    [answer] = await queued(app, f"inbox:{thread.id}:r")
    assert answer.user_id == "m1"
    assert answer.member_id == member.id
    assert "สวัสดีค่ะ เปิด 10 โมงค่ะ" in texts(answer)
    [stored] = await threads(app)
    assert stored.first_response_at is not None
    assert stored.first_response_at - stored.opened_at == timedelta(minutes=7)
    messages = await thread_messages(app, thread.id)
    assert [(m.direction, m.staff_id is not None) for m in messages] == [
        ("in", False),
        ("out", True),
    ]
    assert len(await audit_rows(app, "inbox.replied")) == 1
    async with app.uow() as uow:
        answered, seconds = await uow.inbox.response_seconds(
            clock.now() - timedelta(days=1), clock.now() + timedelta(seconds=1)
        )
    assert (answered, seconds) == (1, 420.0)


async def test_a_message_after_a_staff_answer_alerts_again(app: App, clock: FrozenClock) -> None:
    owner = await staff_chat(app, "own1", "owner")
    chat, _ = await member_chat(app)
    await chat.say("hello")
    [thread] = await threads(app)
    await owner.press(f"ibr:{thread.id}")
    await owner.say("hi!")
    clock.advance(timedelta(minutes=11))
    await chat.say("thanks, one more question")
    assert len(await queued(app, f"inbox:{thread.id}:a")) == 2


async def test_closing_a_thread_makes_the_next_message_open_a_new_one(
    app: App, clock: FrozenClock
) -> None:
    owner = await staff_chat(app, "own1", "owner")
    chat, _ = await member_chat(app)
    await chat.say("hello")
    [thread] = await threads(app)
    await owner.press(f"ibc:{thread.id}")
    assert owner.text() == t("th", "inbox2.closed")
    await owner.press(f"ibr:{thread.id}")
    assert owner.text() == t("th", "inbox2.already_closed")
    await chat.say("hello again")
    first, second = await threads(app)
    assert (first.status, first.closed_by_staff_id is not None) == ("closed", True)
    assert first.closed_at == clock.now()
    assert second.status == "open"
    assert len(await audit_rows(app, "inbox.closed")) == 1


async def test_inbox_lists_open_threads_with_the_last_message_and_the_wait(
    app: App, clock: FrozenClock
) -> None:
    manager = await staff_chat(app, "mgr-r", "manager", "ratchada")
    chat, _ = await member_chat(app, home_branch_code="ratchada")
    other, _ = await member_chat(
        app, "Nok", "089-999-0000", user_id="m2", home_branch_code="dindaeng"
    )
    await chat.say("hello")
    await other.say("not for ratchada")
    clock.advance(timedelta(minutes=25))
    replies = await manager.say("/inbox")
    assert replies[0].text == t("th", "inbox2.title", n=1)
    assert "Ploy" in replies[1].text
    assert "hello" in replies[1].text
    assert t("th", "inbox2.minutes", n=25) in replies[1].text
    [thread, _] = await threads(app)
    assert [b.action for b in replies[1].buttons] == [f"ibr:{thread.id}", f"ibc:{thread.id}"]


async def test_customers_and_cashiers_cannot_use_inbox_or_forge_its_buttons(
    app: App, clock: FrozenClock
) -> None:
    cashier = await staff_chat(app, "cash1", "cashier")
    chat, _ = await member_chat(app)
    await chat.say("hello")
    [thread] = await threads(app)
    sneaky, _ = await member_chat(app, "Nok", "089-999-0000", user_id="m2")
    for who in (sneaky, cashier):
        assert (await who.say("/inbox"))[0].text == t("th", "error.not_allowed")
        assert (await who.press(f"ibr:{thread.id}"))[0].text == t("th", "error.not_allowed")
        assert (await who.press(f"ibc:{thread.id}"))[0].text == t("th", "error.not_allowed")
    [stored] = await threads(app)
    assert stored.status == "open"


async def test_a_manager_of_another_branch_cannot_answer_or_close(
    app: App, clock: FrozenClock
) -> None:
    other_manager = await staff_chat(app, "mgr-d", "manager", "dindaeng")
    chat, _ = await member_chat(app, home_branch_code="ratchada")
    await chat.say("hello")
    [thread] = await threads(app)
    assert (await other_manager.press(f"ibr:{thread.id}"))[0].text == t("th", "error.not_allowed")
    assert (await other_manager.press(f"ibc:{thread.id}"))[0].text == t("th", "error.not_allowed")
    assert await queued(app, f"inbox:{thread.id}:r") == []


async def test_an_answer_to_a_telegram_customer_carries_no_reply_token(
    app: App, clock: FrozenClock
) -> None:
    owner = await staff_chat(app, "own1", "owner")
    chat = Chat(app, user_id="stranger", channel=Channel.TELEGRAM)
    await chat.say("do you deliver?")
    await chat.say("to Bang Na?")
    [thread] = await threads(app)
    await owner.press(f"ibr:{thread.id}")
    await owner.say("yes")
    [answer] = await queued(app, f"inbox:{thread.id}:r")
    assert "reply_token" not in answer.payload
