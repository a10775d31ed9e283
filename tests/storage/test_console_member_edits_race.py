"""A member's tag and note forms in the web console (over HTTP) meeting a double click and
the member's own ``/deleteme``.

On SQLite a console write holds the write lock from its first statement, so these run one
after the other. On PostgreSQL each request has its own transaction and connection: here they
are made to meet where the race is, the console past its look at the member and about to
write.
"""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.bootstrap import App
from bot.i18n import t
from storage.models import Member, MemberNote, MemberTag
from storage.raw_session import session_of
from storage.repositories.people import People
from tests.chat import Chat
from tests.storage.erasure_race_support import write_across_erasure
from tests.storage.join_edges_support import on_postgres
from tests.unit.admin_support import console_client, signed_in
from tests.unit.staff_support import audit_rows, make_member, staff_chat

NOTE = "แพ้ถั่ว โทรหาคุณแม่ 089-999-9999 ก่อนส่งของ"


async def _count(app: App, model: Any, *where: Any) -> int:
    async with app.uow() as uow:
        found = await session_of(uow).execute(select(func.count()).select_from(model).where(*where))
        return int(found.scalar_one())


async def test_add_tag_clicked_twice_tags_once(
    app: App, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    member = await make_member(app, "Ploy", "0812345678", user_id="4100")
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    if on_postgres(engine):
        real = People.add_tags
        barrier = asyncio.Barrier(2)

        async def meeting(self: People, *args: Any, **kwargs: Any) -> Any:
            await asyncio.wait_for(barrier.wait(), 20)
            return await real(self, *args, **kwargs)

        monkeypatch.setattr(People, "add_tags", meeting)
    async with console_client(app) as client:
        browser = await signed_in(client, owner)
        path = f"/admin/members/{member.id}/tags"
        answers = await asyncio.gather(
            browser.post(path, {"tags": "vip"}), browser.post(path, {"tags": "vip"})
        )
    assert [answer.status for answer in answers] == [303, 303]
    assert await _count(app, MemberTag) == 1
    assert len(await audit_rows(app, "member.tagged")) == 1


@pytest.mark.parametrize(
    ("field", "form", "model", "method"),
    [
        ("notes", {"note": NOTE}, MemberNote, "add_note"),
        ("tags", {"tags": "แพ้ถั่ว"}, MemberTag, "add_tags"),
    ],
    ids=["note", "tag"],
)
async def test_a_note_or_tag_meeting_the_members_erasure_does_not_outlive_it(
    app: App,
    engine: AsyncEngine,
    monkeypatch: pytest.MonkeyPatch,
    field: str,
    form: dict[str, str],
    model: Any,
    method: str,
) -> None:
    """The owner writes a note about Ploy as she erases herself in the chat. Either the note
    is refused (she is gone) or it is written first and her erasure takes it with it: a staff
    note describes the person, and erasure removes such notes (``storage.repositories.erasure``)."""
    member = await make_member(app, "Ploy", "0812345678", user_id="4100")
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    ploy = Chat(app, user_id="4100", display_name="Ploy")
    await ploy.say("/deleteme")
    async with console_client(app) as client:
        browser = await signed_in(client, owner)
        path = f"/admin/members/{member.id}/{field}"
        if on_postgres(engine):
            post, erase = partial(browser.post, path, form), partial(ploy.press, "del:yes")
            answer = await write_across_erasure(monkeypatch, method, post, erase)
        else:
            answer, _ = await asyncio.gather(browser.post(path, form), ploy.press("del:yes"))
        assert answer.status in (303, 404)
    assert t("th", "privacy.deleted") in ploy.text()
    async with app.uow() as uow:
        erased_at = (await session_of(uow).execute(select(Member.erased_at))).scalar_one()
    assert erased_at is not None
    assert await _count(app, model, model.member_id == member.id) == 0
