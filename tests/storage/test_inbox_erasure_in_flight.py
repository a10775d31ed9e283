"""A customer's text in flight while their chat account is erased: on PostgreSQL the text runs
in a transaction of its own that reaches the chat account's row while the erasure holds it
(the erasure locks the account first, then deletes it); SQLite's one writer orders them."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.bootstrap import App
from bot.core.messages import Channel
from bot.i18n import t
from storage.repositories.erasure import Erasure
from tests.chat import Chat
from tests.storage.inbox_edges_support import box, text_of
from tests.storage.join_edges_support import on_postgres, until
from tests.unit.staff_support import make_member, staff_chat

LINE_ID = "U" + "d" * 32


async def _someone_waits_on_a_lock(engine: AsyncEngine) -> bool:
    async with engine.connect() as connection:
        found = await connection.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
        )
        return bool(found.scalar_one())


async def _erase_with_a_text_waiting(
    engine: AsyncEngine,
    monkeypatch: pytest.MonkeyPatch,
    chat: Chat,
    other: Chat,
    say: str = "hello again",
) -> tuple[list[Any], list[Any]]:
    """``del:yes`` held inside its transaction once the chat account is locked; the text then
    sent in a transaction of its own; the erasure let go once the text waits for the lock."""
    if not on_postgres(engine):
        erased = await chat.press("del:yes")
        return erased, await other.say(say)
    held, go = asyncio.Event(), asyncio.Event()
    real = Erasure._forget_staff_alerts

    async def holding(self: Erasure, *args: Any, **kwargs: Any) -> Any:
        held.set()
        await asyncio.wait_for(go.wait(), 20)
        return await real(self, *args, **kwargs)

    monkeypatch.setattr(Erasure, "_forget_staff_alerts", holding)
    erasing = asyncio.create_task(chat.press("del:yes"))
    await asyncio.wait_for(held.wait(), 20)
    texting = asyncio.create_task(other.say(say))
    await until(lambda: _someone_waits_on_a_lock(engine), "the text waiting for the account")
    go.set()
    return await erasing, await texting


async def test_a_text_from_the_members_other_account_waiting_on_the_erasure(
    app: App, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ploy on Telegram and on LINE erases her membership from Telegram while her LINE
    account writes to the shop (on Telegram a text would meet the erasure's question)."""
    await staff_chat(app, "own1", "owner")
    member = await make_member(app, "Ploy", "0811111111", user_id="m1", locale="en")
    async with app.uow() as uow:
        line = await uow.identities.touch("line", LINE_ID, app.clock.now(), None, "en")
        line.member_id = member.id
        await uow.commit()
    telegram = Chat(app, user_id="m1", language_code="en", display_name="Ploy")
    on_line = Chat(app, user_id=LINE_ID, channel=Channel.LINE, language_code="en")
    await on_line.say("my phone is 0811111111")
    await telegram.say("/deleteme")
    erased, after = await _erase_with_a_text_waiting(engine, monkeypatch, telegram, on_line)
    assert text_of(erased) == t("en", "privacy.deleted")
    assert text_of(after) != t("en", "error.internal"), text_of(after)
    found = await box(app)
    assert [said for _, _, said in found.messages] in ([], ["hello again"])
    assert all(member_id is None for _, _, member_id, _ in found.threads)


async def test_a_staff_answer_waiting_on_the_customers_erasure(
    app: App, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = await staff_chat(app, "own1", "owner", language_code="en")
    await make_member(app, "Ploy", "0811111111", user_id="m1", locale="en")
    ploy = Chat(app, user_id="m1", language_code="en", display_name="Ploy")
    await ploy.say("my phone is 0811111111")
    [thread_id] = (await box(app)).open_threads
    await owner.press(f"ibr:{thread_id}")
    await ploy.say("/deleteme")
    erased, answered = await _erase_with_a_text_waiting(
        engine, monkeypatch, ploy, owner, "we will call you"
    )
    assert text_of(erased) == t("en", "privacy.deleted")
    assert text_of(answered) != t("en", "error.internal"), text_of(answered)
    found = await box(app)
    assert (found.threads, found.messages) == ([], [])
