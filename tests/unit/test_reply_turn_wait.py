"""A direct reply waits for its turn in the courier's own task (no task made per reply), and a
turn that does not come, or a wait that is cancelled, ends as it did with ``wait_for``."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest

from bot.core.clock import FrozenClock
from bot.core.messages import Channel, Reply
from bot.core.ports import NextTurn
from jobs.replies import ReplyCourier
from storage.uow import UnitOfWorkFactory


class Limiter:
    """Gives turns at once, or never (``hold``); records where and how each wait ended."""

    def __init__(self, hold: bool = False) -> None:
        self.hold = hold
        self.tasks: list[asyncio.Task[Any] | None] = []
        self.ended: list[str] = []
        self.waiting = asyncio.Event()

    async def before_send(
        self, channel: Channel, kind: str, chat: str, messages: int, *, urgent: bool = False
    ) -> None:
        self.tasks.append(asyncio.current_task())
        self.waiting.set()
        try:
            if self.hold:
                await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.ended.append("cancelled")
            raise
        self.ended.append("given")

    def rest(self, channel: Channel, seconds: float) -> None:
        return None

    def answered(self, channel: Channel, chat: str) -> None:
        return None


def courier(limiter: Limiter, wait_limit: float = 5.0) -> tuple[ReplyCourier, list[str]]:
    made = ReplyCourier(
        cast(UnitOfWorkFactory, None),
        FrozenClock(datetime(2026, 1, 1, tzinfo=UTC)),
        limiter,
        wait_limit=wait_limit,
    )
    queued: list[str] = []

    async def queue(
        channel: Channel,
        chat: str,
        units: Sequence[Sequence[Reply]],
        why: str,
        *,
        delay: timedelta = timedelta(0),
        status: str = "pending",
        retry_key: str | None = None,
    ) -> str:
        queued.append(f"{len(units)} {why}")
        return "queued"

    made._queue = queue  # type: ignore[method-assign]
    return made, queued


async def test_each_reply_waits_its_turn_in_the_delivering_task() -> None:
    limiter = Limiter()
    made, queued = courier(limiter)
    sent: list[str] = []

    async def send(unit: Sequence[Reply], _turn: NextTurn) -> None:
        sent.extend(reply.text for reply in unit)

    units = [[Reply("a")], [Reply("b")], [Reply("c")]]
    result = await made.deliver(Channel.TELEGRAM, "7", units, send)
    assert (result, sent, queued) == ("sent", ["a", "b", "c"], [])
    assert limiter.tasks == [asyncio.current_task()] * 3  # before: a task of its own each


async def test_a_turn_that_does_not_come_queues_the_rest() -> None:
    limiter = Limiter(hold=True)
    made, queued = courier(limiter, wait_limit=0.01)

    async def send(unit: Sequence[Reply], _turn: NextTurn) -> None:
        raise AssertionError("nothing may be sent without a turn")

    result = await made.deliver(Channel.TELEGRAM, "7", [[Reply("a")], [Reply("b")]], send)
    assert (result, queued, limiter.ended) == (
        "queued",
        ["2 waited for the rate limit"],
        ["cancelled"],
    )


async def test_a_cancelled_wait_is_cancelled_and_queues_nothing() -> None:
    limiter = Limiter(hold=True)
    made, queued = courier(limiter)

    async def send(unit: Sequence[Reply], _turn: NextTurn) -> None:
        raise AssertionError("nothing may be sent without a turn")

    task = asyncio.create_task(made.deliver(Channel.TELEGRAM, "7", [[Reply("a")]], send))
    await limiter.waiting.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert (queued, limiter.ended) == ([], ["cancelled"])
