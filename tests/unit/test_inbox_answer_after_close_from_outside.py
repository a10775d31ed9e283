"""Two staff on one customer thread in chat: a manager presses [reply] and starts typing; the
owner closes the thread meanwhile. The web console refuses an answer to a closed thread (and
shows no reply form); the chat's answer step must say the thread is closed too, send nothing
and store nothing in it, in the manager's language — not "sent" into a thread nobody sees."""

from __future__ import annotations

import pytest

from bot.bootstrap import App
from bot.i18n import t
from tests.storage.inbox_edges_support import box
from tests.unit.staff_support import ensure_branches, member_chat, outbox_rows, staff_chat


@pytest.mark.parametrize("locale", ["th", "en"])
async def test_an_answer_typed_after_another_staff_closed_the_thread_is_not_sent(
    app: App, locale: str
) -> None:
    await ensure_branches(app, ("asoke",))
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    manager = await staff_chat(app, "mg", "manager", "asoke", language_code=locale)
    chat, _ = await member_chat(app, home_branch_code="asoke")
    await chat.say("is the shop open today?")
    [thread_id] = (await box(app)).open_threads
    await manager.press(f"ibr:{thread_id}")
    assert "is the shop open today?" in manager.text()
    await owner.press(f"ibc:{thread_id}")
    await manager.say("yes, until 20:00")
    assert manager.text() == t(locale, "inbox2.already_closed"), manager.text()
    assert (await box(app)).texts(thread_id) == ["is the shop open today?"]
    assert await outbox_rows(app, f"inbox:{thread_id}:r") == []


async def test_an_answer_typed_while_the_thread_stays_open_is_sent(app: App) -> None:
    await ensure_branches(app, ("asoke",))
    manager = await staff_chat(app, "mg", "manager", "asoke", language_code="en")
    chat, _ = await member_chat(app, home_branch_code="asoke")
    await chat.say("is the shop open today?")
    [thread_id] = (await box(app)).open_threads
    await manager.press(f"ibr:{thread_id}")
    await manager.say("yes, until 20:00")
    assert manager.text() == t("en", "inbox2.sent")
    assert len(await outbox_rows(app, f"inbox:{thread_id}:r")) == 1
