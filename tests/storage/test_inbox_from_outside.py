"""A customer's free text to the shop (``handlers/inbox/threads.py``, the thread and message rows
written on the driver by ``storage/repositories/inbox.py``) as the outside meets it: two texts of
one member in one group-commit batch, a redelivered text, a text whose alert fails beside others
in its batch, long and mixed-script text, an erasure in between, a close racing a text, and on
PostgreSQL two texts of one member in transactions of their own."""

from __future__ import annotations

import asyncio
import contextlib
import os
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.bootstrap import App
from bot.core.clock import FrozenClock
from bot.core.graphemes import fit
from bot.i18n import t
from handlers.inbox import threads
from storage.repositories.inbox import Inbox
from tests.chat import Chat
from tests.storage.inbox_edges_support import box, owner_and_ploy, say_as, text_of
from tests.storage.join_edges_support import on_postgres, until
from tests.unit.sales_support import queued, texts

ON_POSTGRES = os.environ.get("CHATCRM_TEST_DATABASE_URL", "").startswith("postgresql")
RECEIVED = t("th", "inbox.received")


async def test_two_texts_of_one_member_in_one_batch_make_one_thread_one_ack_one_alert(
    app: App,
) -> None:
    await owner_and_ploy(app)
    chat = Chat(app, user_id="m1", display_name="Ploy")
    first, second = await asyncio.gather(chat.say("สวัสดีค่ะ"), chat.say("เปิดกี่โมง"))
    assert text_of(first) == RECEIVED
    assert second == []
    found = await box(app)
    [thread_id] = found.open_threads
    assert found.texts(thread_id) == ["สวัสดีค่ะ", "เปิดกี่โมง"]
    assert len(found.alerts) == 1


async def test_a_text_redelivered_in_its_batch_and_later_is_stored_once(app: App) -> None:
    await owner_and_ploy(app)
    chat = Chat(app, user_id="m1")
    answers = await asyncio.gather(
        say_as(chat, "hello", "tg:t1"), say_as(chat, "hello", "tg:t1"), say_as(chat, "x", "tg:t2")
    )
    assert [text_of(a) for a in answers] == [RECEIVED, "", ""]
    assert await say_as(chat, "hello", "tg:t1") == []
    found = await box(app)
    [thread_id] = found.open_threads
    assert found.texts(thread_id) == ["hello", "x"]
    assert len(found.alerts) == 1


def _alerts_failing_on(monkeypatch: pytest.MonkeyPatch, word: str) -> None:
    """The staff alert of a message whose text is ``word`` crashes (after its thread and
    message rows were written on the driver)."""
    real = threads.alert_staff

    async def alert(ctx: Any, thread: Any, message: Any, *args: Any, **kwargs: Any) -> int:
        if message.text == word:
            raise RuntimeError("alert down")
        return await real(ctx, thread, message, *args, **kwargs)

    monkeypatch.setattr(threads, "alert_staff", alert)


async def test_a_new_thread_whose_alert_fails_is_undone_and_the_next_text_in_the_batch_opens_it(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The failed event's thread (an INSERT on the driver) is rolled back by its savepoint;
    the member's next text in the same batch opens the thread afresh (on SQLite with the
    same id) and is acknowledged."""
    await owner_and_ploy(app)
    _alerts_failing_on(monkeypatch, "boom")
    chat = Chat(app, user_id="m1")
    failed, kept = await asyncio.gather(chat.say("boom"), chat.say("second"))
    assert text_of(failed) == t("th", "error.internal")
    assert text_of(kept) == RECEIVED
    found = await box(app)
    [thread_id] = found.open_threads
    assert len(found.threads) == 1
    assert found.texts(thread_id) == ["second"]
    assert len(found.alerts) == 1
    [alert] = await queued(app, "inbox:")
    assert "second" in texts(alert)


async def test_a_continued_thread_whose_alert_fails_keeps_the_next_texts_move(
    app: App, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a staff answer a text alerts again; that alert fails: the text's message and the
    thread's new time are undone, and the next text in the batch moves the thread and alerts."""
    owner, chat = await owner_and_ploy(app)
    await chat.say("first")
    [thread_id] = (await box(app)).open_threads
    await owner.press(f"ibr:{thread_id}")
    await owner.say("we open at nine")
    clock.advance(timedelta(minutes=30))
    _alerts_failing_on(monkeypatch, "boom")
    failed, kept = await asyncio.gather(chat.say("boom"), chat.say("thanks"))
    assert text_of(failed) == t("th", "error.internal")
    assert kept == []
    found = await box(app)
    assert found.texts(thread_id) == ["first", "we open at nine", "thanks"]
    assert len(found.alerts) == 2
    async with app.uow() as uow:
        thread = await uow.inbox.thread(thread_id)
        assert thread is not None
        assert thread.last_message_at == clock.now()


LONG_TEXT = "ก่อนอื่น ขอบคุณค่ะ 🙏🏽👩‍👩‍👧 น้ำ́ " * 1500  # ~45,000 characters, ZWJ and combining


@pytest.mark.parametrize(
    "text",
    [
        LONG_TEXT.strip(),
        "คุณ\u200bพลอย 👨‍👩‍👧‍👦 e\u0301 \U0001f1f9\U0001f1ed",
        "<b>hi</b> & {name} %s \\ ' \" ;--",
    ],
    ids=["long", "zwsp-zwj-combining-flag", "markup-and-quotes"],
)
async def test_any_text_is_stored_exactly_and_previewed_in_the_alert(app: App, text: str) -> None:
    await owner_and_ploy(app)
    chat = Chat(app, user_id="m1")
    assert text_of(await chat.say(text)) == RECEIVED
    found = await box(app)
    [thread_id] = found.open_threads
    assert found.texts(thread_id) == [text]
    [alert] = await queued(app, "inbox:")
    # a long one is quoted cut between graphemes, with "…" (bot.core.graphemes.fit)
    assert fit(text, threads.PREVIEW_CHARS) in texts(alert)


async def test_a_text_after_an_erasure_opens_a_new_strangers_thread(app: App) -> None:
    await owner_and_ploy(app)
    chat = Chat(app, user_id="m1", display_name="Ploy")
    await chat.say("my phone is 0811111111")
    await chat.say("/deleteme")
    await chat.press("del:yes")
    assert (await box(app)).threads == []
    assert text_of(await chat.say("hello again")) == RECEIVED
    found = await box(app)
    [(thread_id, _, member_id, status)] = found.threads
    assert (member_id, status) == (None, "open")
    assert found.texts(thread_id) == ["hello again"]
    assert len(found.alerts) == 1


async def test_an_erasure_and_a_text_of_the_same_chat_in_one_batch(app: App) -> None:
    """The erasure deletes the chat account and the thread; the text after it in the same
    transaction starts as a stranger's: a thread of its own, never the erased member's."""
    await owner_and_ploy(app)
    chat = Chat(app, user_id="m1", display_name="Ploy")
    await chat.say("my phone is 0811111111")
    await chat.say("/deleteme")
    erased, after = await asyncio.gather(chat.press("del:yes"), chat.say("hello again"))
    assert text_of(erased) == t("th", "privacy.deleted")
    assert text_of(after) == RECEIVED
    found = await box(app)
    [(thread_id, _, member_id, _)] = found.threads
    assert member_id is None
    assert found.texts(thread_id) == ["hello again"]


async def test_a_text_batched_right_after_the_close_opens_a_new_thread(app: App) -> None:
    """Staff close the thread and the customer writes, in one batch: the text must not land in
    the thread just closed (nobody would see it)."""
    owner, chat = await owner_and_ploy(app)
    await chat.say("first")
    [thread_id] = (await box(app)).open_threads
    closed, text = await asyncio.gather(owner.press(f"ibc:{thread_id}"), chat.say("one more"))
    assert text_of(closed) == t("th", "inbox2.closed")
    assert text_of(text) == RECEIVED
    found = await box(app)
    [new_id] = found.open_threads
    assert new_id != thread_id
    assert found.texts(thread_id) == ["first"]
    assert found.texts(new_id) == ["one more"]


async def test_two_texts_of_one_member_in_parallel_transactions_share_one_thread(
    app: App, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL each text runs in a batch, transaction and connection of its own, and
    both reach the thread's INSERT before either commits (the texts were sent within
    milliseconds: a person typing two lines). SQLite's one writer orders them."""
    await owner_and_ploy(app)
    chat = Chat(app, user_id="m1")
    await chat.say("/points")  # the chat account seen just now: the arrival writes nothing
    sends = [lambda: chat.say("hello"), lambda: chat.say("are you open?")]
    if on_postgres(engine):
        barrier = asyncio.Barrier(2)
        real = Inbox.open_thread

        async def meeting(self: Inbox, *args: Any, **kwargs: Any) -> Any:
            # should the other one wait on this one's lock, there is no race to make
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(barrier.wait(), 5)
            return await real(self, *args, **kwargs)

        monkeypatch.setattr(Inbox, "open_thread", meeting)
        first = asyncio.create_task(sends[0]())
        await until(lambda: _true(barrier.n_waiting >= 1), "the first text at the INSERT")
        answers = [await sends[1](), await first]
    else:
        answers = list(await asyncio.gather(*(send() for send in sends)))
    found = await box(app)
    assert len(found.open_threads) == 1
    assert sorted(m[2] for m in found.messages) == ["are you open?", "hello"]
    assert sorted(text_of(a) for a in answers) == ["", RECEIVED]
    assert len(found.alerts) == 1


async def _true(value: bool) -> bool:
    return value


async def test_a_stranger_who_wrote_to_the_shop_can_erase_what_they_wrote(app: App) -> None:
    await owner_and_ploy(app)
    stranger = Chat(app, user_id="s1", display_name="Somchai")
    await stranger.say("my number is 0812345678, call me")
    await stranger.say("/deleteme")
    await stranger.press("del:yes")
    found = await box(app)
    assert not any("0812345678" in text for _, _, text in found.messages)
