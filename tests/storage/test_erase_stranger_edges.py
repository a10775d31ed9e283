"""/deleteme from someone who never joined, at the edges: in the middle of the sign-up, pressed
twice in one batch, redelivered, from a staff member who is no member, and what the same chat
meets afterwards."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from bot.bootstrap import App
from bot.i18n import t
from storage.models import ChannelIdentity, ConversationState, OutboxMessage
from storage.raw_session import session_of
from tests.chat import Chat
from tests.storage.inbox_edges_support import box, text_of
from tests.storage.join_edges_support import press_as
from tests.unit.staff_support import make_member, outbox_rows, staff_chat


async def _count(app: App, model: type[object], *where: object) -> int:
    async with app.uow() as uow:
        found = await session_of(uow).scalar(
            select(func.count()).select_from(model).where(*where)  # type: ignore[arg-type]
        )
        return int(found or 0)


async def test_a_stranger_mid_sign_up_erases_the_answers_given_so_far(app: App) -> None:
    await staff_chat(app, "own1", "owner")
    somchai = Chat(app, user_id="s1", display_name="Somchai")
    await somchai.say("/start")
    await somchai.press("su:join")
    await somchai.press("su:mkt:yes")
    await somchai.say("Somchai Jaidee")
    await somchai.say("0812345678")
    await somchai.say("/deleteme")
    assert text_of(await somchai.press("del:yes")) == t("th", "privacy.deleted_guest")
    assert await _count(app, ConversationState) == 0
    assert await _count(app, ChannelIdentity, ChannelIdentity.user_id == "s1") == 0
    async with app.uow() as uow:
        assert await uow.members.by_phone("+66812345678") is None
    await somchai.say("/start")  # a fresh sign-up, nothing remembered
    assert [b.action for r in somchai.last for b in r.buttons][:1] == ["su:join"]


async def test_yes_pressed_twice_in_one_batch_erases_once_and_answers_both(app: App) -> None:
    await staff_chat(app, "own1", "owner")
    guest = Chat(app, user_id="s2", language_code="en", display_name="Guest")
    await guest.say("my number is 0812345678")
    await guest.say("/deleteme")
    first, second = await asyncio.gather(
        press_as(guest, "del:yes", "tg:y1"), press_as(guest, "del:yes", "tg:y2")
    )
    said = [text_of(first), text_of(second)]
    assert t("en", "privacy.deleted_guest") in said, said
    assert t("en", "error.internal") not in said, said
    assert (await box(app)).messages == []
    assert await _count(app, ChannelIdentity, ChannelIdentity.user_id == "s2") <= 1


async def test_yes_redelivered_after_the_erasure_answers_nothing_and_erases_nothing(
    app: App,
) -> None:
    await staff_chat(app, "own1", "owner")
    guest = Chat(app, user_id="s3", language_code="en", display_name="Guest")
    await guest.say("/deleteme")
    assert text_of(await press_as(guest, "del:yes", "tg:y1")) == t("en", "privacy.deleted_guest")
    await guest.say("hello again")  # a new stranger's thread
    [thread] = (await box(app)).open_threads
    assert await press_as(guest, "del:yes", "tg:y1") == []  # the same event again
    assert (await box(app)).texts(thread) == ["hello again"]


async def test_yes_without_a_question_from_a_new_stranger_erases_nothing(app: App) -> None:
    """An old ``del:yes`` button pressed again after the erasure (a new event): the flow was
    finished, so the chat's new account and its new text are kept."""
    await staff_chat(app, "own1", "owner")
    guest = Chat(app, user_id="s4", language_code="en", display_name="Guest")
    await guest.say("/deleteme")
    await guest.press("del:yes")
    await guest.say("hello again")
    [thread] = (await box(app)).open_threads
    await guest.press("del:yes")
    assert (await box(app)).texts(thread) == ["hello again"]
    assert await _count(app, ChannelIdentity, ChannelIdentity.user_id == "s4") == 1


async def test_a_staff_member_who_is_no_member_keeps_the_alerts_about_customers(
    app: App,
) -> None:
    """An owner who never joined as a member presses /deleteme: the staff alerts queued to
    them are about other customers' messages, not theirs; they stay queued, and the owner is
    told to leave the staff first."""
    owner = await staff_chat(app, "own1", "owner", language_code="en")
    await make_member(app, "Ploy", "0899999999", user_id="m1")
    ploy = Chat(app, user_id="m1", display_name="Ploy")
    await ploy.say("is the shop open on Sunday?")
    [alert] = (await box(app)).alerts
    pending = [row.dedupe_key for row in await outbox_rows(app) if row.status == "pending"]
    assert pending == [alert]
    assert text_of(await owner.say("/deleteme")) == t("en", "privacy.staff_account")
    await owner.press("del:yes")  # a button from before: nothing is asked, nothing erased
    keys = [row.dedupe_key for row in await outbox_rows(app) if row.status == "pending"]
    assert alert in keys, keys
    assert (await box(app)).texts((await box(app)).open_threads[0]) == [
        "is the shop open on Sunday?"
    ]
    assert await _count(app, OutboxMessage, OutboxMessage.user_id == "own1") >= 1
