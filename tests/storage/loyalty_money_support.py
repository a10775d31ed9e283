"""Helpers for the loyalty-money tests from outside: events made to meet inside one write on
PostgreSQL (each in a transaction of its own), one event held inside its transaction while
another runs, a second chat account of a member, and a member brought to a reward's confirm."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.bootstrap import App
from bot.core.messages import Channel, Reply
from tests.chat import Chat
from tests.storage.join_edges_support import on_postgres, until

Send = Callable[[], Awaitable[Any]]


async def meet_at(
    engine: AsyncEngine,
    monkeypatch: pytest.MonkeyPatch,
    writes: list[tuple[Any, str]],
    sends: list[Send],
) -> list[Any]:
    """The sends at once. On PostgreSQL each is handed to the bus only once the one before
    waits at one of ``writes`` (``(class, method)``, the first write of each) inside its own
    transaction, and all of them go on once every one has arrived there: a true race. SQLite
    has one writer: they run as the bus runs them."""
    if not on_postgres(engine):
        return list(await asyncio.gather(*(send() for send in sends)))
    meeting = _Meeting(len(sends))
    barrier = meeting.barrier
    for cls, name in dict.fromkeys(writes):
        monkeypatch.setattr(cls, name, meeting.wrap(getattr(cls, name)))
    tasks: list[asyncio.Task[Any]] = []
    for send in sends:
        tasks.append(asyncio.create_task(send()))
        arrived = len(tasks)

        async def there(arrived: int = arrived) -> bool:
            return barrier.n_waiting >= arrived or arrived == len(sends)

        await until(there, "an event at its write")
    return list(await asyncio.gather(*tasks))


class _Meeting:
    """Methods that wait at one barrier until it has been passed once (a later call, such as
    an event run again alone after its batch failed, goes straight on)."""

    def __init__(self, parties: int) -> None:
        self.barrier = asyncio.Barrier(parties)
        self.passed = False

    def wrap(self, real: Any) -> Any:
        async def meeting(this: Any, *args: Any, **kwargs: Any) -> Any:
            if not self.passed:
                await asyncio.wait_for(self.barrier.wait(), 20)
                self.passed = True
            return await real(this, *args, **kwargs)

        return meeting


class Held:
    """Holds the first call of ``cls.name`` (after it ran) inside its transaction until let go."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, cls: Any, name: str) -> None:
        self.inside, self.go = asyncio.Event(), asyncio.Event()
        real = getattr(cls, name)

        async def held(this: Any, *args: Any, **kwargs: Any) -> Any:
            result = await real(this, *args, **kwargs)
            if not self.inside.is_set():
                self.inside.set()
                await asyncio.wait_for(self.go.wait(), 20)
            return result

        monkeypatch.setattr(cls, name, held)

    async def while_held(self, first: Send, second: Send, engine: AsyncEngine) -> tuple[Any, Any]:
        """``first`` started and held inside; ``second`` run meanwhile (to its commit on
        PostgreSQL; on SQLite it waits for ``first``'s write lock, so it is given a moment to
        reach it); then ``first`` let go."""
        task = asyncio.create_task(first())
        await asyncio.wait_for(self.inside.wait(), 20)
        other = asyncio.create_task(second())
        await asyncio.wait({other}, timeout=20 if on_postgres(engine) else 1)
        self.go.set()
        return await task, await other


async def second_account(app: App, member_id: int, user_id: str, channel: Channel) -> Chat:
    """A second chat account of the member (as ``/link`` leaves it), and a chat speaking as it."""
    async with app.uow() as uow:
        identity = await uow.identities.touch(channel.value, user_id, app.clock.now(), "Ploy", "th")
        identity.member_id = member_id
        await uow.commit()
    return Chat(app, user_id=user_id, channel=channel, language_code="th", display_name="Ploy")


async def at_confirm(chat: Chat, reward_id: int) -> list[Reply]:
    """The member opened /rewards and picked ``reward_id``: the confirm question is showing."""
    await chat.say("/rewards")
    return await chat.press(f"rw:pick:{reward_id}")


def text_of(replies: list[Reply]) -> str:
    return "\n".join(reply.text for reply in replies)
