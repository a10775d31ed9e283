"""Two chat accounts finishing the sign-up with one phone at the same instant: the unique phone
links it to one, and the other joins too, answered alike, with the number kept unlinked, as
when it comes second (issue 15, item 4: nobody is told whose number it is)."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from bot.bootstrap import App
from bot.i18n import t
from storage.models import Member, PointsEntry
from storage.raw_session import session_of
from tests.chat import Chat
from tests.unit.journey_support import rows


async def _up_to_the_last_step(chat: Chat, name: str) -> None:
    await chat.say("/start")
    await chat.press("su:join")
    await chat.press("su:mkt:yes")
    await chat.say(name)
    await chat.say("0812345678")
    await chat.say("1/5/1987")


async def test_concurrent_signups_with_one_phone_make_one_member(app: App) -> None:
    first, second = Chat(app, user_id="a"), Chat(app, user_id="b")
    await _up_to_the_last_step(first, "Ploy")
    await _up_to_the_last_step(second, "Ploy too")
    answers = await asyncio.gather(first.press("su:g:skip"), second.press("su:g:skip"))
    members = await rows(app, Member)
    assert sorted((m.phone or "", m.phone_unlinked or "") for m in members) == [
        ("", "+66812345678"),
        ("+66812345678", ""),
    ]
    texts = ["\n".join(r.text for r in replies) for replies in answers]
    assert all(
        t("th", "signup.done", name=name, points=50) in text
        for name, text in zip(("Ploy", "Ploy too"), texts, strict=True)
    )
    assert not any(t("th", "error.internal") in text for text in texts)
    async with app.uow() as uow:
        session = session_of(uow)
        sums = dict(
            (
                await session.execute(
                    select(PointsEntry.member_id, func.sum(PointsEntry.delta)).group_by(
                        PointsEntry.member_id
                    )
                )
            ).all()
        )
        balances = dict((await session.execute(select(Member.id, Member.points_balance))).all())
    assert balances == {m: sums.get(m, 0) for m in balances}
    assert all(b >= 0 for b in balances.values())
