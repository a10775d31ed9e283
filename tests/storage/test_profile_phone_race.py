"""Two members giving their profile the same new number at the same moment (a couple sharing
the family phone at the counter), through the bus as their chats reach it.

The profile's phone step keeps a number someone else holds unlinked, and answers as for a free
number (``handlers.customer.fields.place_phone``). On SQLite the two edits run one after the
other. On PostgreSQL each runs in a transaction of its own: here both have looked the number up
(free) before either writes.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.bootstrap import App
from bot.i18n import t
from storage.models import Member
from storage.raw_session import session_of
from storage.repositories.members import Members
from tests.chat import Chat
from tests.storage.join_edges_support import on_postgres, until
from tests.unit.staff_support import make_member

FAMILY_PHONE = "0899999999"


async def test_two_members_taking_one_number_at_once_are_both_answered(
    app: App, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    await make_member(app, "Ploy", "0810000001", user_id="701")
    await make_member(app, "Somchai", "0810000002", user_id="702")
    ploy, somchai = Chat(app, user_id="701"), Chat(app, user_id="702")
    for chat in (ploy, somchai):
        await chat.press("prof:phone")
    sends = [lambda: ploy.say(FAMILY_PHONE), lambda: somchai.say(FAMILY_PHONE)]
    if on_postgres(engine):
        real = Members.by_phone
        barrier = asyncio.Barrier(2)

        async def looked_up(self: Members, phone: str) -> Any:
            found = await real(self, phone)
            await asyncio.wait_for(barrier.wait(), 20)
            return found

        monkeypatch.setattr(Members, "by_phone", looked_up)
        first = asyncio.create_task(sends[0]())

        async def there() -> bool:
            return barrier.n_waiting >= 1

        await until(there, "the first edit's look-up")
        answers = [await sends[1](), await first]
    else:
        answers = list(await asyncio.gather(*(send() for send in sends)))
    saved = t("th", "profile.saved")
    assert [replies[0].text for replies in answers] == [saved, saved]
    async with app.uow() as uow:
        rows = await session_of(uow).execute(select(Member.phone, Member.phone_unlinked))
        numbers = sorted((phone or "", unlinked or "") for phone, unlinked in rows.all())
    assert numbers == [("", "+66899999999"), ("+66899999999", "")]
