"""A staff answer whose outbox key is refused as queued before is not reported as sent."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from bot.bootstrap import App
from bot.i18n import t
from storage.models import InboxMessage
from storage.raw_session import session_of
from tests.storage.inbox_edges_support import box, text_of
from tests.unit.staff_support import member_chat, outbox_rows, staff_chat


async def test_an_answer_the_outbox_refuses_is_neither_reported_sent_nor_kept(app: App) -> None:
    owner = await staff_chat(app, "own1", "owner")
    ploy, _ = await member_chat(app, "Ploy", "0811111111", user_id="m1")
    await ploy.say("please call me back")
    [thread_id] = (await box(app)).open_threads
    async with app.uow() as uow:  # the key the answer's message will get, already taken
        top = await session_of(uow).scalar(select(func.max(InboxMessage.id)))
        assert top is not None
        taken = f"inbox:{thread_id}:r{top + 1}"
        now = app.clock.now() - timedelta(days=1)
        assert await uow.outbox.enqueue(taken, "telegram", "someone", {"v": 1}, now)
        await uow.commit()
    await owner.press(f"ibr:{thread_id}")
    replies = await owner.say("we will call at 5")
    assert text_of(replies) == t("th", "inbox2.not_queued")
    assert text_of(replies) != t("th", "inbox2.sent")
    assert (await box(app)).texts(thread_id) == ["please call me back"]
    assert [row.user_id for row in await outbox_rows(app, taken)] == ["someone"]
