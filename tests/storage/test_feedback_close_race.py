"""A low rating's comment arriving while staff close the customer's thread: on PostgreSQL the
comment runs in a transaction of its own, made to read the open thread before the close
commits and to write after it; SQLite's one writer orders them. Either way the comment must
land in a thread staff still see (an open one), as a customer's free text does (the comment
is held after its first read of the thread)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.bootstrap import App
from bot.core.clock import FrozenClock
from bot.i18n import t
from jobs.feedback import run_feedback
from storage.repositories.inbox import Inbox
from tests.storage.inbox_edges_support import box, text_of
from tests.storage.join_edges_support import on_postgres
from tests.unit.inbox_support import add_sale, feedback_rows
from tests.unit.staff_support import member_chat, staff_chat


async def _rated_low(app: App, clock: FrozenClock) -> tuple[Any, int]:
    owner = await staff_chat(app, "own1", "owner", language_code="en")
    ploy, member = await member_chat(app, locale="en")
    await add_sale(app, member.id, "ratchada", clock.now())
    clock.advance(timedelta(hours=3))
    await run_feedback(app)
    [feedback] = await feedback_rows(app)
    await ploy.press(f"fb:{feedback.id}:1")
    [thread_id] = (await box(app)).open_threads
    return (owner, ploy), thread_id


async def test_a_comment_racing_the_close_lands_in_an_open_thread(
    app: App, engine: AsyncEngine, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    (owner, ploy), thread_id = await _rated_low(app, clock)
    if on_postgres(engine):
        read, go = asyncio.Event(), asyncio.Event()
        real = Inbox.open_thread_and_last_direction

        async def holding(*args: Any, **kwargs: Any) -> Any:
            found = await real(*args, **kwargs)
            if not read.is_set():  # the first read only: the comment reads again after
                read.set()
                await asyncio.wait_for(go.wait(), 20)
            return found

        monkeypatch.setattr(Inbox, "open_thread_and_last_direction", holding)
        commenting = asyncio.create_task(ploy.say("the coffee was cold"))
        await asyncio.wait_for(read.wait(), 20)
        closed = await owner.press(f"ibc:{thread_id}")
        go.set()
        said = await commenting
    else:
        closed = await owner.press(f"ibc:{thread_id}")
        said = await ploy.say("the coffee was cold")
    assert text_of(closed) == t("en", "inbox2.closed")
    assert text_of(said) == t("en", "feedback.done")
    found = await box(app)
    where = [tid for tid, _, text in found.messages if text == "the coffee was cold"]
    assert len(where) == 1
    assert where[0] in found.open_threads, (where, found.threads)
