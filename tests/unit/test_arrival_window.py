"""The arrival window on a simulated clock: each message answered late costs the bot-wide
bucket a slot, so a stall that bunches messages on the way never crowds the platform's window;
on time, and on a slow but steady network, nothing is owed."""

from __future__ import annotations

import heapq
import itertools
from contextlib import AbstractAsyncContextManager

import pytest

from bot.core.capabilities import RateBudget
from bot.core.messages import Channel
from jobs.ratelimit import ArrivalWindow, PlatformLimits
from tests.unit.test_ratelimit import SimulatedTime, most_in_any_window

PACE = 28.0  # the shipped TELEGRAM_RATE under Telegram's 30
GAP = 1 / PACE
TELEGRAM = Channel.TELEGRAM


def paced(clock: SimulatedTime) -> tuple[PlatformLimits, ArrivalWindow]:
    arrivals = ArrivalWindow(GAP, now=clock.now)
    limits = PlatformLimits(
        {TELEGRAM: RateBudget(per_sender=PACE, per_message=True)},
        arrivals={TELEGRAM: arrivals},
        now=clock.now,
        sleep=clock.sleep,
    )
    return limits, arrivals


async def send(limits: PlatformLimits, n: int) -> None:
    await limits.before_send(TELEGRAM, "push", str(n), 1)


@pytest.mark.parametrize("round_trip", [0.002, 0.250])  # a local fake; Bangkok to Europe
async def test_messages_answered_at_a_steady_pace_owe_nothing(round_trip: float) -> None:
    clock = SimulatedTime()
    limits, arrivals = paced(clock)
    # every message is answered round_trip after it left, several in flight at once
    events: list[tuple[float, int, int]] = []
    turns: dict[int, AbstractAsyncContextManager[None]] = {}
    left: list[float] = []
    for n in range(200):
        while events and events[0][0] <= n * GAP:  # the answers due before this one leaves
            answer, _, m = heapq.heappop(events)
            clock.t = max(clock.t, answer)
            await turns.pop(m).__aexit__(None, None, None)
        await send(limits, n)
        left.append(clock.t)
        turns[n] = arrivals.turn()
        await turns[n].__aenter__()
        heapq.heappush(events, (clock.t + round_trip, 0, n))
    assert left == pytest.approx([n * GAP for n in range(200)])


async def test_a_bunch_answered_late_costs_the_bucket_a_slot_each() -> None:
    clock = SimulatedTime()
    limits, arrivals = paced(clock)
    left: list[float] = []
    answered: list[float] = []
    bunch = [arrivals.turn() for _ in range(3)]  # three leave on time, answered together
    for n in range(90):
        await send(limits, n)
        left.append(clock.t)
        if 27 <= n <= 29:
            await bunch[n - 27].__aenter__()
            if n == 29:
                clock.t += 0.12
                for turn in bunch:
                    await turn.__aexit__(None, None, None)
                answered += [clock.t] * 3
            continue
        async with arrivals.turn():
            clock.t += 0.001
        answered.append(clock.t)
    # each arrived no later than its answer; the pace alone would have put 31 in one second
    assert most_in_any_window(answered) <= 30
    late = [moment - n * GAP for n, moment in enumerate(left)]
    assert late[:30] == pytest.approx([0.0] * 30)
    # the three are answered at 29 gaps + 0.12 s; at least three slots are given up: the next
    # leaves three gaps or more after that instead of at once
    assert left[30] >= 29 * GAP + 0.12 + 3 * GAP - 1e-9
    # and the bucket spaces the messages that waited, as every other
    assert min(b - a for a, b in itertools.pairwise(left)) >= GAP - 1e-9


async def test_a_debt_costs_a_slot_also_when_every_slot_is_in_use() -> None:
    clock = SimulatedTime()
    limits, arrivals = paced(clock)
    for n in range(10):  # a busy stream: each takes the token as soon as it comes
        await send(limits, n)
        async with arrivals.turn():
            clock.t += 0.001
    await send(limits, 10)
    late = arrivals.turn()  # the eleventh is answered 0.2 s late, the stream going on meanwhile
    await late.__aenter__()
    for n in range(11, 17):
        await send(limits, n)
    last = clock.t
    await late.__aexit__(None, None, None)
    await send(limits, 17)  # without the debt: one gap after the last
    assert clock.t - last >= 2 * GAP - 1e-9


async def test_a_message_that_failed_costs_nothing() -> None:
    clock = SimulatedTime()
    arrivals = ArrivalWindow(GAP, now=clock.now)

    async def fails() -> None:
        async with arrivals.turn():
            clock.t += 0.5
            raise ConnectionResetError  # no answer: when (or whether) it arrived is unknown

    with pytest.raises(ConnectionResetError):
        await fails()
    assert arrivals.owed() == 0


async def test_a_debt_lapses_a_second_after_its_message_left() -> None:
    clock = SimulatedTime()
    arrivals = ArrivalWindow(GAP, now=clock.now)
    async with arrivals.turn():
        clock.t += 0.001
    async with arrivals.turn():
        clock.t += 0.3  # left at 0.001, answered 0.3 s late
    clock.t = 1.0
    assert arrivals.owed() == 1
    assert arrivals.owed() == 0  # paid
    async with arrivals.turn():
        clock.t += 0.3
    clock.t = 2.1  # nothing of this process went in the second after it: nothing to give up
    assert arrivals.owed() == 0


def test_an_arrival_window_refuses_a_negative_tolerance() -> None:
    with pytest.raises(ValueError, match="tolerance >= 0"):
        ArrivalWindow(-0.1)
