"""What an erasure leaves behind: it deletes the member's chat accounts, inbox threads and
messages, and keeps rows that name them by id (sent staff alerts and answers under their outbox
keys, the audit rows a code throttle counts). The next customer's rows must not get those ids:
PostgreSQL's sequences never give an id twice, and SQLite, whose new rows would take the ids of
deleted ones, has AUTOINCREMENT on those tables (migration 0019). Nothing of the erased person
may reach the next customer."""

from __future__ import annotations

from bot.bootstrap import App
from bot.i18n import t
from tests.chat import Chat
from tests.storage.inbox_edges_support import box, owner_and_ploy, text_of
from tests.unit.inbox_support import dispatcher
from tests.unit.staff_support import member_chat

RECEIVED = t("th", "inbox.received")


async def test_after_an_erasure_the_next_customers_first_message_still_alerts_staff(
    app: App,
) -> None:
    await owner_and_ploy(app)
    ploy = Chat(app, user_id="m1", display_name="Ploy")
    await ploy.say("please call me back")
    disp, telegram, _ = dispatcher(app)
    await disp.drain_once()  # the owner was told: the alert row is sent, and kept
    assert [push.user_id for push in telegram.pushes] == ["own1"]
    await ploy.say("/deleteme")
    await ploy.press("del:yes")
    nok, _ = await member_chat(app, "Nok", "0822222222", user_id="m2")
    assert text_of(await nok.say("do you deliver?")) == RECEIVED
    await disp.drain_once()
    told = [text for push in telegram.pushes[1:] for text in push.texts]
    assert any("do you deliver?" in text for text in told), told


async def test_after_an_erasure_a_staff_answer_to_the_next_customer_reaches_them(
    app: App,
) -> None:
    owner, ploy = await owner_and_ploy(app)
    await ploy.say("please call me back")
    [first] = (await box(app)).open_threads
    await owner.press(f"ibr:{first}")
    await owner.say("we will call at 5")
    disp, telegram, _ = dispatcher(app)
    await disp.drain_once()
    assert "m1" in [push.user_id for push in telegram.pushes]
    await ploy.say("/deleteme")
    await ploy.press("del:yes")
    nok, _ = await member_chat(app, "Nok", "0822222222", user_id="m2")
    await nok.say("do you deliver?")
    [thread_id] = (await box(app)).open_threads
    await owner.press(f"ibr:{thread_id}")
    assert text_of(await owner.say("yes, within 3 km")) == t("th", "inbox2.sent")
    await disp.drain_once()
    to_nok = [text for push in telegram.pushes if push.user_id == "m2" for text in push.texts]
    assert any("yes, within 3 km" in text for text in to_nok), to_nok


async def test_after_an_erasure_a_new_chat_account_does_not_inherit_its_code_lock_out(
    app: App,
) -> None:
    await owner_and_ploy(app)
    ploy = Chat(app, user_id="m1", language_code="en")
    for _ in range(5):
        await ploy.say("/link WRONG123")
    await ploy.say("/deleteme")
    await ploy.press("del:yes")
    stranger = Chat(app, user_id="m9", language_code="en")
    replies = await stranger.say("/link WRONG123")
    assert text_of(replies) == t("en", "link.bad_code")
