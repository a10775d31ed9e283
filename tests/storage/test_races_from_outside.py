"""Two people acting on one row at the same moment, each in a transaction of its own (on
PostgreSQL the bus runs batches in parallel): staff closing a thread while the customer's text
is on its way into it, and a cashier's sale while the member erases themselves. One event is
held inside its transaction while the other runs to its commit. SQLite has one writer: the
held event holds the write lock, the other waits for it, and the same promise must hold."""

from __future__ import annotations

import asyncio
import os
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.bootstrap import App
from bot.core.clock import FrozenClock
from bot.core.messages import Channel
from bot.i18n import t
from jobs.dispatcher import OutboxDispatcher
from jobs.feedback import run_feedback
from storage.repositories.audit import AuditLog
from storage.repositories.erasure import Erasure
from storage.repositories.inbox import Inbox
from tests.chat import Chat
from tests.storage.inbox_edges_support import box, text_of
from tests.unit.dispatcher_support import FakeTelegram
from tests.unit.inbox_support import add_sale, feedback_rows
from tests.unit.sales_support import sales
from tests.unit.staff_support import ensure_branch, make_staff, member_chat, outbox_rows

ON_POSTGRES = os.environ.get("CHATCRM_TEST_DATABASE_URL", "").startswith("postgresql")


class Held:
    """Holds the first call of an async method inside its event's transaction until let go."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, cls: Any, name: str, after: bool) -> None:
        self.inside, self.go = asyncio.Event(), asyncio.Event()
        real = getattr(cls, name)

        async def held(this: Any, *args: Any, **kwargs: Any) -> Any:
            result = await real(this, *args, **kwargs) if after else None
            if not self.inside.is_set():
                self.inside.set()
                await asyncio.wait_for(self.go.wait(), 20)
            return result if after else await real(this, *args, **kwargs)

        monkeypatch.setattr(cls, name, held)

    async def while_held(
        self, first: Any, second: Any, *, second_finishes: bool = False
    ) -> tuple[Any, Any]:
        """``first`` sent and held inside; ``second`` sent and, unless it waits on ``first``'s
        locks (SQLite's write lock), run to its commit; then ``first`` let go. With
        ``second_finishes`` (it takes none of ``first``'s locks) ``second`` is waited for to
        the end, however slow the machine."""
        task = asyncio.create_task(first())
        await asyncio.wait_for(self.inside.wait(), 20)
        other = asyncio.create_task(second())
        # a second that waits on the first's locks is given a moment to reach them
        await asyncio.wait({other}, timeout=20 if second_finishes else 1)
        self.go.set()
        return await task, await other


async def _answered_thread(app: App) -> tuple[Chat, Chat, int]:
    """The owner (English), Ploy and her open thread: her question, the owner's answer; her
    chat account seen just now, so her next event's arrival writes nothing."""
    owner = Chat(app, user_id="own1", language_code="en")
    await make_staff(app, "own1", "owner")
    chat, _ = await member_chat(app, "Ploy", "0811111111", user_id="m1")
    await chat.say("is the shop open today?")
    [thread_id] = (await box(app)).open_threads
    await owner.press(f"ibr:{thread_id}")
    await owner.say("yes, until 20:00")
    await chat.say("/points")
    return owner, chat, thread_id


@pytest.mark.skipif(not ON_POSTGRES, reason="SQLite has one writer: the close waits for the text")
async def test_a_text_on_its_way_while_staff_close_the_thread_is_not_lost_in_the_closed_one(
    app: App, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner, chat, thread_id = await _answered_thread(app)
    held = Held(monkeypatch, Inbox, "receive", after=False)
    _, closed = await held.while_held(
        lambda: chat.say("can I book a table for 6?"),
        lambda: owner.press(f"ibc:{thread_id}"),
        second_finishes=True,  # the close takes no lock the held text has
    )
    assert "closed" in text_of(closed)
    found = await box(app)
    assert found.texts(thread_id) == ["is the shop open today?", "yes, until 20:00"]
    [open_id] = found.open_threads
    assert found.texts(open_id) == ["can I book a table for 6?"]


@pytest.mark.skipif(not ON_POSTGRES, reason="SQLite has one writer: the close waits for it")
async def test_a_low_rating_on_its_way_while_staff_close_the_thread_opens_a_new_one(
    app: App, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A low rating's stars go into the customer's thread (staff answer it there): a close
    committed while they are on their way leaves them in a new open thread, not the closed
    one, where no staff member would see them."""
    owner, chat, thread_id = await _answered_thread(app)
    [member_id] = [m for tid, _, m, _ in (await box(app)).threads if tid == thread_id]
    await add_sale(app, member_id, "asoke", clock.now())
    clock.advance(timedelta(hours=3))
    await run_feedback(app)
    [feedback] = await feedback_rows(app)
    held = Held(monkeypatch, Inbox, "receive", after=False)
    _, closed = await held.while_held(
        lambda: chat.press(f"fb:{feedback.id}:1"),
        lambda: owner.press(f"ibc:{thread_id}"),
        second_finishes=True,  # the close takes no lock the held rating has
    )
    assert "closed" in text_of(closed)
    found = await box(app)
    assert found.texts(thread_id) == ["is the shop open today?", "yes, until 20:00"]
    [open_id] = found.open_threads
    assert found.texts(open_id) == ["★"]


async def test_a_text_arriving_while_the_close_is_still_uncommitted_opens_a_new_thread(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The close has written its thread row and is held before its commit; the customer's
    text reads the thread as open (the close is not committed yet) and comes to write its
    message while the close still holds the row. On PostgreSQL the text must wait for the
    close, see it closed and open a new thread (not add to the closed one); on SQLite it
    waits for the close's write lock before it reads."""
    owner, chat, thread_id = await _answered_thread(app)
    held = Held(monkeypatch, AuditLog, "record", after=True)  # the close's UPDATE flushed
    closed, text = await held.while_held(
        lambda: owner.press(f"ibc:{thread_id}"), lambda: chat.say("one more question")
    )
    assert "closed" in text_of(closed)
    assert text_of(text) == t("th", "inbox.received")
    found = await box(app)
    assert found.texts(thread_id) == ["is the shop open today?", "yes, until 20:00"]
    [open_id] = found.open_threads
    assert open_id != thread_id
    assert found.texts(open_id) == ["one more question"]
    assert len([key for key in found.alerts if key.startswith(f"inbox:{open_id}:")]) == 1


@pytest.mark.parametrize("held_after", ["_forget_messages", "_forget_accounts"])
async def test_a_sale_racing_the_members_erasure_sends_them_nothing_after_it(
    app: App, monkeypatch: pytest.MonkeyPatch, held_after: str
) -> None:
    """The erasure is held inside its transaction after it forgot the member's pending
    messages, or later, after every message to their chat accounts; a sale queueing its
    receipt meanwhile must wait for the erasure (which locked the member's row first) and
    then find no chat account to queue it to."""
    await ensure_branch(app, "asoke")
    await make_staff(app, "c1", "cashier", "asoke")
    cashier = Chat(app, user_id="c1", language_code="en")
    chat, ploy = await member_chat(app, "Ploy", "0811111111", user_id="m1")
    await chat.say("/deleteme")
    held = Held(monkeypatch, Erasure, held_after, after=True)
    erased, sold = await held.while_held(
        lambda: chat.press("del:yes"),
        lambda: cashier.say(f"/sale {ploy.member_code} 250 receipt=R1"),
    )
    assert text_of(erased) == t("th", "privacy.deleted")
    assert "went wrong" not in text_of(sold)
    async with app.uow() as uow:
        member = await uow.members.get(ploy.id)
        assert member is not None
        assert member.erased_at is not None
    telegram = FakeTelegram()
    await OutboxDispatcher(app.uow, app.clock, {Channel.TELEGRAM: telegram}).drain_once()
    assert [push.user_id for push in telegram.pushes if push.user_id == "m1"] == []
    assert [row.dedupe_key for row in await outbox_rows(app) if row.user_id == "m1"] == []
    assert len(await sales(app)) in (0, 1)
