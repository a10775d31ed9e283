"""What an erasure leaves behind on SQLite, whose new rows take the ids of deleted ones (no
AUTOINCREMENT): an erasure deletes the member's chat accounts, inbox threads and messages, and
keeps rows that name them by id (sent staff alerts and answers under their outbox keys, the
audit rows a code throttle counts). The next customer's rows get those ids; nothing of the
erased person may reach them. PostgreSQL's sequences never give an id twice."""

from __future__ import annotations

import os

import pytest

from bot.bootstrap import App
from bot.i18n import t
from tests.chat import Chat
from tests.storage.inbox_edges_support import box, text_of
from tests.unit.inbox_support import dispatcher
from tests.unit.staff_support import member_chat, staff_chat

ON_POSTGRES = os.environ.get("CHATCRM_TEST_DATABASE_URL", "").startswith("postgresql")
RECEIVED = t("th", "inbox.received")


async def _shop(app: App) -> tuple[Chat, Chat]:
    owner = await staff_chat(app, "own1", "owner")
    chat, _ = await member_chat(app, "Ploy", "0811111111", user_id="m1")
    return owner, chat


@pytest.mark.xfail(
    not ON_POSTGRES,
    strict=True,
    reason=(
        "SQLite: an erasure deletes the member's inbox threads and messages but keeps their "
        "sent staff alerts (payload emptied) under keys built from those ids "
        "(inbox:<thread>:a<message>|s<staff>, handlers/inbox/threads.py alert_key). SQLite "
        "reuses the deleted rows' ids (no AUTOINCREMENT), so the next customer's new thread "
        "and message get the same ids: Inbox.alerts_since counts the erased member's alert "
        "as this thread's, and the enqueue would be refused by the kept key anyway: staff are "
        "never told of the new customer's message"
    ),
)
async def test_after_an_erasure_the_next_customers_first_message_still_alerts_staff(
    app: App,
) -> None:
    await _shop(app)
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


@pytest.mark.xfail(
    not ON_POSTGRES,
    strict=True,
    reason=(
        "SQLite: a staff answer is queued under inbox:<thread>:r<message> "
        "(handlers/inbox/reply.py answer_thread); an erasure keeps the erased member's sent "
        "answers under those keys (chat id 'erased') while deleting the threads and messages, "
        "whose ids SQLite then gives again. The next customer's thread and the answer's "
        "message reuse them, Outbox.enqueue refuses the key as queued before, answer_thread "
        "ignores that and tells staff 'sent': the customer never gets the answer"
    ),
)
async def test_after_an_erasure_a_staff_answer_to_the_next_customer_reaches_them(
    app: App,
) -> None:
    owner, ploy = await _shop(app)
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


@pytest.mark.xfail(
    not ON_POSTGRES,
    strict=True,
    reason=(
        "SQLite: wrong /link codes are throttled per chat account by its row id "
        "(handlers/customer/link.py _guesser, 'identity:<id>' in audit rows, which erasure "
        "keeps). An erasure deletes the chat account; SQLite gives its id to the next new "
        "account, which inherits the erased person's lock-out and is told 'too many wrong "
        "codes' at its first try"
    ),
)
async def test_after_an_erasure_a_new_chat_account_does_not_inherit_its_code_lock_out(
    app: App,
) -> None:
    await _shop(app)
    ploy = Chat(app, user_id="m1", language_code="en")
    for _ in range(5):
        await ploy.say("/link WRONG123")
    await ploy.say("/deleteme")
    await ploy.press("del:yes")
    stranger = Chat(app, user_id="m9", language_code="en")
    replies = await stranger.say("/link WRONG123")
    assert text_of(replies) == t("en", "link.bad_code")
