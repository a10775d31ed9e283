"""Helpers for the customer-journey tests: a shop with branches, a member who joined."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select

from bot.bootstrap import App
from bot.core.messages import Reply
from storage.models import Branch, Consent, Member, PointsEntry
from storage.raw_session import session_of
from tests.chat import Chat

BRANCHES = (("asoke", "อโศก", "Asoke"), ("ratchada", "รัชดา", "Ratchada"))


async def add_branches(app: App) -> dict[str, int]:
    """The shop's branches, by code → id."""
    async with app.uow() as uow:
        rows = [Branch(code=c, name_th=th, name_en=en, active=True) for c, th, en in BRANCHES]
        session_of(uow).add_all(rows)
        await uow.flush()
        ids = {row.code: row.id for row in rows}
        await uow.commit()
    return ids


async def join(
    chat: Chat,
    name: str = "Ploy",
    phone: str = "081-234-5678",
    birthday: str = "01/05/2530",
    gender: str = "female",
    branch: str = "skip",
    marketing: bool = True,
    start: str = "/start",
) -> list[Reply]:
    """Go through the whole sign-up; ``branch`` is a branch id, or "skip"."""
    await chat.say(start)
    await chat.press("su:join")
    await chat.press("su:mkt:yes" if marketing else "su:mkt:no")
    await chat.say(name)
    await chat.say(phone)
    await chat.say(birthday)
    replies = await chat.press(f"su:g:{gender}")
    if any(b.action.startswith("su:b:") for r in replies for b in r.buttons):
        replies = await chat.press(f"su:b:{branch}")
    return replies


async def rows(app: App, model: type[Any], *where: Any) -> Sequence[Any]:
    async with app.uow() as uow:
        result = await session_of(uow).execute(select(model).where(*where))
        return result.scalars().all()


async def count_rows(app: App, model: type[Any]) -> int:
    async with app.uow() as uow:
        result = await session_of(uow).execute(select(func.count()).select_from(model))
        return int(result.scalar_one())


async def only_member(app: App) -> Member:
    members = await rows(app, Member)
    assert len(members) == 1, members
    return members[0]


async def consents(app: App, member_id: int) -> list[tuple[str, bool, str]]:
    found = await rows(app, Consent, Consent.member_id == member_id)
    return [(c.purpose, c.granted, c.wording_version) for c in sorted(found, key=lambda c: c.id)]


async def points(app: App, member_id: int) -> list[tuple[int, str]]:
    found = await rows(app, PointsEntry, PointsEntry.member_id == member_id)
    return [(e.delta, e.reason) for e in sorted(found, key=lambda e: e.id)]


def buttons(replies: Sequence[Reply]) -> list[str]:
    return [button.action for reply in replies for button in reply.buttons]
