"""Messages to one chat leave a second apart, also when they waited after taking their chat's
turn: behind the bot's pause after a 429, or behind other chats' messages. Before, the turns
were spaced and the leaving was not: two replies to one cashier went 36 ms apart at the end of
a pause, drew a 429, whose pause gathered the next two — a 429 every few seconds for as long as
the replies lasted. On a simulated clock with its sleepers woken in time order."""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Coroutine
from typing import Any

import pytest

from bot.core.capabilities import RateBudget
from bot.core.messages import Channel
from jobs.ratelimit import KeyedBuckets, PlatformLimits

TELEGRAM = Channel.TELEGRAM
PACE = 28.0


class Timeline:
    """A clock that moves to the earliest sleeper's wake-up once every task waits."""

    def __init__(self) -> None:
        self.t = 0.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def now(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        woken: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.t + max(seconds, 0.0), next(self._order), woken))
        await woken

    async def run(self, *work: Coroutine[Any, Any, None]) -> None:
        tasks = [asyncio.ensure_future(job) for job in work]
        while not all(task.done() for task in tasks):
            for _ in range(50):  # everyone runs until they wait
                await asyncio.sleep(0)
            if self._sleepers:
                wake, _, woken = heapq.heappop(self._sleepers)
                self.t = max(self.t, wake)
                woken.set_result(None)
        for task in tasks:
            task.result()


def limits_on(clock: Timeline) -> PlatformLimits:
    budget = RateBudget(per_sender=PACE, per_chat=1.0, per_message=True)
    return PlatformLimits({TELEGRAM: budget}, now=clock.now, sleep=clock.sleep)


def gaps(times: list[float]) -> list[float]:
    return [later - earlier for earlier, later in itertools.pairwise(sorted(times))]


async def test_replies_to_one_chat_gathered_by_a_pause_leave_a_second_apart() -> None:
    clock = Timeline()
    limits = limits_on(clock)
    limits.rest(TELEGRAM, 1.5)  # the platform said retry_after
    left: list[float] = []

    async def reply() -> None:
        await limits.before_send(TELEGRAM, "push", "810001", 1, urgent=True)
        left.append(clock.t)

    await clock.run(*(reply() for _ in range(3)))
    assert min(gaps(left)) >= 1.0 - 1e-9
    assert min(left) >= 1.5 - 1e-9


async def test_a_message_that_waited_behind_other_chats_keeps_its_chat_a_second_apart() -> None:
    clock = Timeline()
    limits = limits_on(clock)
    left: dict[str, list[float]] = {}

    async def send(chat: str) -> None:
        await limits.before_send(TELEGRAM, "push", chat, 1)
        left.setdefault(chat, []).append(clock.t)

    # 40 other chats ahead in the bot's queue: the first to chat 7 leaves after about 1.4 s,
    # its second takes the chat's turn a second after the first's and queues right behind it
    others = [send(str(1000 + n)) for n in range(40)]
    await clock.run(*others, send("7"), send("7"))
    assert len(left["7"]) == 2
    assert min(gaps(left["7"])) >= 1.0 - 1e-9
    everything = sorted(t for times in left.values() for t in times)
    assert min(gaps(everything)) >= 1 / PACE - 1e-9  # the bot's pace still holds


async def test_an_idle_chat_is_forgotten_only_a_gap_after_its_last_message_left() -> None:
    clock = Timeline()
    chats = KeyedBuckets(1.0, 1.0, now=clock.now, sleep=clock.sleep)
    await chats.acquire("a")
    clock.t = 1.2  # its turn came back, but the message left late
    chats.left("a")
    clock.t = 1.5
    chats._forget_idle()
    waited: list[bool] = []

    async def spacing() -> None:
        waited.append(await chats.spaced("a"))

    await clock.run(spacing())
    assert waited == [True]
    assert clock.t == pytest.approx(2.2)
