"""A cashier's ``/note`` and ``/tag`` in the chat meeting the member's own ``/deleteme``: the
chat shares the console's path (``shop.member_notes``), so what it writes must not outlive
the erasure either.

On SQLite the two events take the write lock in turn. On PostgreSQL each runs in a
transaction of its own: here the cashier's command has found the member and is about to
write when the erasure commits.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.bootstrap import App
from bot.i18n import t
from storage.models import Member, MemberNote, MemberTag
from storage.raw_session import session_of
from tests.chat import Chat
from tests.storage.erasure_race_support import write_across_erasure
from tests.storage.join_edges_support import on_postgres
from tests.unit.staff_support import ensure_branches, make_member, staff_chat


@pytest.mark.parametrize(
    ("command", "model", "method", "done"),
    [
        ("/note 0812345678 แพ้ถั่ว", MemberNote, "add_note", "note.done"),
        ("/tag 0812345678 vip", MemberTag, "add_tags", "tag.done"),
    ],
    ids=["note", "tag"],
)
async def test_a_chat_note_or_tag_meeting_the_members_erasure_does_not_outlive_it(
    app: App,
    engine: AsyncEngine,
    monkeypatch: pytest.MonkeyPatch,
    command: str,
    model: Any,
    method: str,
    done: str,
) -> None:
    """Either the note is refused (she is gone) or it is written first and her erasure
    takes it with it; never kept about an erased member."""
    await ensure_branches(app, ("asoke",))
    member = await make_member(app, "Ploy", "0812345678", user_id="4100")
    cashier = await staff_chat(app, "c1", "cashier", "asoke", language_code="en")
    ploy = Chat(app, user_id="4100", display_name="Ploy")
    await ploy.say("/deleteme")
    if on_postgres(engine):
        write = lambda: cashier.say(command)  # noqa: E731
        answer = await write_across_erasure(
            monkeypatch, method, write, lambda: ploy.press("del:yes")
        )
    else:
        answer, _ = await asyncio.gather(cashier.say(command), ploy.press("del:yes"))
    said = "\n".join(reply.text or "" for reply in answer)
    # refused as a sequential miss is: naming what the cashier typed, not a row id
    refused = t("en", "error.no_member_with_phone", query="0812345678")
    assert said in (t("en", done, name="Ploy", tags="vip"), refused), said
    assert t("th", "privacy.deleted") in ploy.text()
    async with app.uow() as uow:
        session = session_of(uow)
        erased_at = await session.scalar(select(Member.erased_at).where(Member.id == member.id))
        kept = await session.scalar(
            select(func.count()).select_from(model).where(model.member_id == member.id)
        )
    assert erased_at is not None
    assert kept == 0
