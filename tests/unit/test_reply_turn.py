"""A reply whose turn is free goes out without waiting for the event loop.

The courier awaits a reply's turn under a time limit (``jobs.replies``). Awaited through
``asyncio.wait_for``, the turn ran as a task of its own: two more iterations of the event
loop per reply even when the turn was free at once, and on a busy loop each iteration is
every other ready callback's work. Counted here as the loop iterations another task sees
while one reply is delivered.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from typing import cast

from bot.core.clock import FrozenClock
from bot.core.messages import Channel, Reply
from bot.core.ports import NextTurn
from jobs.ratelimit import Unlimited
from jobs.replies import ReplyCourier
from storage.uow import UnitOfWorkFactory


@contextlib.asynccontextmanager
async def _no_database() -> AsyncIterator[None]:
    raise AssertionError("the common path reads nothing")
    yield  # pragma: no cover


async def test_a_reply_whose_turn_is_free_is_sent_within_one_loop_iteration() -> None:
    courier = ReplyCourier(
        cast(UnitOfWorkFactory, _no_database),
        FrozenClock(datetime(2026, 1, 1, tzinfo=UTC)),
        Unlimited(),
    )
    sent: list[Sequence[Reply]] = []

    async def send(unit: Sequence[Reply], _next_turn: NextTurn) -> None:
        sent.append(unit)

    iterations = 0

    async def ticker() -> None:
        nonlocal iterations
        while True:
            iterations += 1
            await asyncio.sleep(0)

    counting = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    before = iterations
    outcome = await courier.deliver(Channel.LINE, "U1", [[Reply("ok")]], send)
    seen = iterations - before
    counting.cancel()
    assert (outcome, len(sent)) == ("sent", 1)
    assert seen == 0
