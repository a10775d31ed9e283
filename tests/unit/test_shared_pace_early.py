"""A shared slot dated ahead of its claim (``jobs.shared_pace``'s lead) is not waited for when
the bot's budget has room: the claim answers when the slots before it leave a gap
(``Slot.earliest``) and the message leaves from then on, as soon as its answer comes. When the
bot is busy that moment is the slot itself. On a simulated clock, with the database's rule
(``storage.repositories.pace.grant``)."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import AsyncIterator, Sequence
from typing import cast

import pytest

from bot.core.capabilities import RateBudget
from bot.core.messages import Channel
from jobs.shared_pace import SharedPace
from storage.repositories.pace import Slot, grant
from storage.uow import UnitOfWorkFactory
from tests.unit.test_chat_spacing import Timeline

TELEGRAM = Channel.TELEGRAM
PACE = 26.0
GAP = 1.0 / PACE


class _Pace:
    """``send_pace`` by :func:`grant`, each claim answered ``turns[n]`` after it began."""

    def __init__(self, clock: Timeline, turns: list[float]) -> None:
        self.clock = clock
        self.turns = turns
        self.next_at: dict[str, float] = {}
        self.slots: list[Slot] = []

    async def claim_many(
        self, sender: str, chats: Sequence[str | None], now: float, gap: float, chat_gap: float
    ) -> list[Slot]:
        await self.clock.sleep(self.turns[min(len(self.slots), len(self.turns) - 1)])
        rows = {key: self.next_at.get(key, 0.0) for key in {sender, *chats} if key is not None}
        slots, moved = grant(rows, sender, chats, now, gap, chat_gap)
        self.next_at.update(moved)
        self.slots.extend(slots)
        return slots

    async def forget_before(self, moment: float) -> None:
        return None


def pace_on(clock: Timeline, turns: list[float]) -> tuple[SharedPace, _Pace]:
    pace = _Pace(clock, turns)

    class _Uow:
        def __init__(self) -> None:
            self.pace = pace

        async def commit(self) -> None:
            return None

    @contextlib.asynccontextmanager
    async def factory() -> AsyncIterator[_Uow]:
        yield _Uow()

    factory.autocommitting = factory  # type: ignore[attr-defined]
    factory.bare_claims = lambda: None  # type: ignore[attr-defined]  # (SQLite's way)
    budget = RateBudget(per_sender=PACE, per_chat=1.0, per_message=True)
    limiter = SharedPace(
        {TELEGRAM: budget},
        cast(UnitOfWorkFactory, factory),
        now=clock.now,
        sleep=clock.sleep,
        local_now=clock.now,
    )
    return limiter, pace


async def test_a_reply_leaves_with_its_answer_when_the_budget_has_room() -> None:
    # the first claim took 30 ms, so the next ones date their slots 30 ms ahead; the second
    # message, a second later, is answered in 5 ms: before, it waited 25 ms more for its slot
    clock = Timeline()
    limiter, pace = pace_on(clock, [0.03, 0.005, 0.005])
    left: list[float] = []

    async def send() -> None:
        await limiter.before_send(TELEGRAM, "push", "810001", 1)
        left.append(clock.t)
        await clock.sleep(1.0)
        began = clock.t
        await limiter.before_send(TELEGRAM, "push", "810002", 1)
        left.append(clock.t)
        assert left[-1] == pytest.approx(began + 0.005)  # with its answer
        await limiter.before_send(TELEGRAM, "push", "810003", 1)  # the bot busy: its slot
        left.append(clock.t)

    await clock.run(send())

    first, second, third = pace.slots
    assert second.at == pytest.approx(left[1] - 0.005 + 0.03)  # dated ahead, not waited for
    assert left[1] < second.at
    assert second.earliest == pytest.approx(first.at + GAP)  # a gap after the slot before
    assert left[2] == pytest.approx(third.at)  # the bot busy until its slot: waited for
    assert third.earliest == pytest.approx(third.at)
    assert all(b - a >= GAP - 1e-9 for a, b in itertools.pairwise(left))
