"""/deleteme from someone who never joined but wrote to the shop: what they wrote (which may
hold a phone number), staff alerts quoting it, answers sent to them and their chat account
with its name go, with the same confirmation as a member's, in their language."""

from __future__ import annotations

import json

from sqlalchemy import select

from bot.bootstrap import App
from bot.i18n import t
from storage.models import AuditEntry, ChannelIdentity
from storage.raw_session import session_of
from tests.chat import Chat
from tests.storage.inbox_edges_support import box, text_of
from tests.unit.inbox_support import dispatcher
from tests.unit.staff_support import outbox_rows, staff_chat

PHONE = "0812345678"


async def _accounts(app: App) -> list[tuple[str, str | None]]:
    async with app.uow() as uow:
        rows = await session_of(uow).scalars(select(ChannelIdentity).order_by(ChannelIdentity.id))
        return [(row.user_id, row.display_name) for row in rows]


async def test_a_stranger_erases_what_they_wrote_the_answers_and_their_chat_name(
    app: App,
) -> None:
    owner = await staff_chat(app, "own1", "owner")
    somchai = Chat(app, user_id="s1", display_name="Somchai")
    await somchai.say(f"my number is {PHONE}, call me")
    [thread_id] = (await box(app)).open_threads
    await owner.press(f"ibr:{thread_id}")
    await owner.say("we will call you at 5")
    disp, telegram, _ = dispatcher(app)
    await disp.drain_once()  # the owner was alerted, the stranger answered: both rows sent
    assert {push.user_id for push in telegram.pushes} == {"own1", "s1"}
    asked = await somchai.say("/deleteme")
    assert text_of(asked) == t("th", "privacy.delete_confirm_guest")
    assert [b.action for r in asked for b in r.buttons] == ["del:yes", "del:no"]
    assert text_of(await somchai.press("del:yes")) == t("th", "privacy.deleted_guest")
    found = await box(app)
    assert found.threads == []
    assert found.messages == []
    assert ("s1", "Somchai") not in await _accounts(app)
    rows = await outbox_rows(app)
    assert [row.user_id for row in rows if row.user_id == "s1"] == []
    assert not any(PHONE in json.dumps(row.payload) for row in rows)
    assert len(found.alerts) == 1  # the sent alert stays counted, without the text
    async with app.uow() as uow:
        actions = await session_of(uow).scalars(select(AuditEntry.action))
        assert "account.erased" in list(actions)
    await somchai.say("hello again")  # a new stranger: a new thread, staff told again
    [again] = (await box(app)).open_threads
    assert (await box(app)).texts(again) == ["hello again"]


async def test_a_stranger_who_says_no_keeps_what_they_wrote(app: App) -> None:
    await staff_chat(app, "own1", "owner")
    guest = Chat(app, user_id="s2", language_code="en", display_name="Guest")
    await guest.say(f"my number is {PHONE}")
    asked = await guest.say("/deleteme")
    assert text_of(asked) == t("en", "privacy.delete_confirm_guest")
    assert [b.label for r in asked for b in r.buttons] == [
        t("en", "privacy.delete_yes"),
        t("en", "privacy.delete_no_guest"),
    ]
    assert text_of(await guest.press("del:no")) == t("en", "privacy.delete_kept_guest")
    [thread_id] = (await box(app)).open_threads
    assert (await box(app)).texts(thread_id) == [f"my number is {PHONE}"]
    assert ("s2", "Guest") in await _accounts(app)
