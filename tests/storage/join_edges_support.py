"""Helpers for the sign-up's last-step edge tests: a chat brought to the last step, an event
sent with a chosen id, two events made to meet inside the member's INSERT on PostgreSQL, and
everything the sign-up writes, read back."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.bootstrap import App
from bot.core.messages import Inbound, InboundKind, Reply
from storage.models import (
    AuditEntry,
    ChannelIdentity,
    Consent,
    ConversationState,
    Member,
    PointsEntry,
)
from storage.raw_session import session_of
from storage.repositories import joining
from tests.chat import Chat

PHONE = "+66812345678"
#: the sign-up's last answer when the shop has no branches (the gender step, skipped)
LAST = "su:g:skip"


async def to_last_step(chat: Chat, name: str = "Ploy", phone: str = "0812345678") -> None:
    await chat.say("/start")
    await chat.press("su:join")
    await chat.press("su:mkt:yes")
    await chat.say(name)
    await chat.say(phone)
    await chat.say("1/5/1987")


async def press_as(chat: Chat, action: str, event_id: str) -> list[Reply]:
    """``action`` pressed in an event whose id is ``event_id`` (a redelivery reuses it)."""
    inbound = Inbound(
        identity=chat.identity,
        kind=InboundKind.ACTION,
        received_at=chat.app.clock.now(),
        event_id=event_id,
        display_name=chat.display_name,
        language_code=chat.language_code,
        action=action,
    )
    chat.last = await chat.app.bus.handle(inbound)
    return chat.last


def on_postgres(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "postgresql"


async def until(condition: Callable[[], Awaitable[bool]], what: str) -> None:
    for _ in range(1000):
        if await condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never happened: {what}")


async def meet_at_insert(
    engine: AsyncEngine,
    monkeypatch: pytest.MonkeyPatch,
    sends: list[Callable[[], Coroutine[Any, Any, list[Reply]]]],
) -> list[list[Reply]]:
    """The events ``sends`` make, at once. On PostgreSQL each is handed to the bus only once
    the one before is inside its own transaction, at the member's INSERT (so each runs in a
    batch, a transaction and a connection of its own), and all of them run that INSERT only
    once every one has arrived there: a true race. SQLite has one writer: they run as the bus
    runs them."""
    if not on_postgres(engine):
        return list(await asyncio.gather(*(send() for send in sends)))
    barrier = asyncio.Barrier(len(sends))
    real = joining.add_member

    async def meeting(*args: Any, **kwargs: Any) -> Any:
        await asyncio.wait_for(barrier.wait(), 20)
        return await real(*args, **kwargs)

    monkeypatch.setattr(joining, "add_member", meeting)
    tasks: list[asyncio.Task[list[Reply]]] = []
    for send in sends:
        tasks.append(asyncio.create_task(send()))
        arrived = len(tasks)

        async def there(arrived: int = arrived) -> bool:
            return barrier.n_waiting >= arrived or arrived == len(sends)

        await until(there, "an event at the member's INSERT")
    return list(await asyncio.gather(*tasks))


@dataclass(frozen=True)
class Written:
    """Everything a sign-up writes, read back after it."""

    members: list[Member]
    #: member id → purposes of its consents, in order
    consents: dict[int, list[tuple[str, bool]]]
    #: chat user id → linked member id
    links: dict[str, int | None]
    #: member id → (delta, reason) of its ledger entries
    points: dict[int, list[tuple[int, str]]]
    #: (action, member id) of every audit row
    audit: list[tuple[str, int | None]]

    def member(self, name: str) -> Member:
        (found,) = [m for m in self.members if m.name == name]
        return found


async def written(app: App) -> Written:
    async with app.uow() as uow:
        session = session_of(uow)

        async def all_of(model: Any) -> list[Any]:
            return list((await session.execute(select(model).order_by(model.id))).scalars())

        members = await all_of(Member)
        consents: dict[int, list[tuple[str, bool]]] = {}
        for c in await all_of(Consent):
            consents.setdefault(c.member_id, []).append((c.purpose, c.granted))
        links = {i.user_id: i.member_id for i in await all_of(ChannelIdentity)}
        points: dict[int, list[tuple[int, str]]] = {}
        for e in await all_of(PointsEntry):
            points.setdefault(e.member_id, []).append((e.delta, e.reason))
        audit = [(a.action, a.member_id) for a in await all_of(AuditEntry)]
    return Written(members, consents, links, points, audit)


def text_of(replies: list[Reply]) -> str:
    return "\n".join(reply.text for reply in replies)


async def step_of(app: App, chat: Chat) -> str | None:
    """The sign-up step the chat is at (None: no conversation)."""
    async with app.uow() as uow:
        row = await session_of(uow).get(
            ConversationState, (chat.identity.channel.value, chat.user_id)
        )
        return None if row is None else row.step
