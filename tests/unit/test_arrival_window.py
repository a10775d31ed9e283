"""The arrival window on a simulated clock: requests counted by when they were answered, so a
stall that bunches them on the way never puts more than the platform's count in one second."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import pytest

from jobs.ratelimit import ArrivalWindow
from tests.unit.test_ratelimit import SimulatedTime, most_in_any_window

GAP = 1 / 28  # the shipped pace (TELEGRAM_RATE) under Telegram's 30


def window(clock: SimulatedTime, count: int = 30) -> ArrivalWindow:
    return ArrivalWindow(count, now=clock.now, sleep=clock.sleep)


async def go_at(clock: SimulatedTime, moment: float) -> None:
    if moment > clock.t:
        await clock.sleep(moment - clock.t)


@contextlib.asynccontextmanager
async def held(arrivals: ArrivalWindow) -> AsyncIterator[float]:
    """One request let in; yields when it was (the caller answers it by leaving)."""
    turn = arrivals.turn()
    await turn.__aenter__()
    try:
        yield arrivals._now()
    finally:
        await turn.__aexit__(None, None, None)


async def test_requests_answered_on_time_at_the_pace_never_wait() -> None:
    clock = SimulatedTime()
    arrivals = window(clock)
    for n in range(200):
        await go_at(clock, n * GAP)
        async with held(arrivals) as let_in:
            assert let_in == pytest.approx(n * GAP)
            clock.t += 0.002  # the answer, 2 ms later


async def test_a_bunch_answered_late_holds_back_the_second_after_it() -> None:
    clock = SimulatedTime()
    arrivals = window(clock)
    answers: list[float] = []
    let_in: list[float] = []
    for n in range(27):
        await go_at(clock, n * GAP)
        async with held(arrivals) as moment:
            let_in.append(moment)
            clock.t += 0.001
        answers.append(clock.t)
    # three requests leave on time, one slot apart, and a stall answers them together
    async with contextlib.AsyncExitStack() as stack:
        for n in range(27, 30):
            await go_at(clock, n * GAP)
            let_in.append(await stack.enter_async_context(held(arrivals)))
        await go_at(clock, 29 * GAP + 0.12)
    answers += [clock.t] * 3
    for n in range(30, 90):
        await go_at(clock, n * GAP)
        async with held(arrivals) as moment:
            let_in.append(moment)
            clock.t += 0.001
        answers.append(clock.t)

    # a request arrives no later than its answer: counted there, no second holds more than 30
    assert most_in_any_window(answers) <= 30
    # the pace alone would have let 28 more into the second after the bunch: one of them waited
    late = [moment - n * GAP for n, moment in enumerate(let_in)]
    assert max(late[30:]) > 0.05
    assert late[:30] == pytest.approx([0.0] * 30)


async def test_unanswered_requests_count_until_they_are_answered() -> None:
    clock = SimulatedTime()
    arrivals = window(clock, count=2)
    async with held(arrivals):
        async with held(arrivals):
            clock.t = 0.5  # the first is answered at 0.5 (the inner one, here)
        # one answered at 0.5, one in flight: the window is full until 1.5
        async with held(arrivals) as third:
            assert third == pytest.approx(1.5)


async def test_a_request_that_failed_counts_as_arrived() -> None:
    clock = SimulatedTime()
    arrivals = window(clock, count=1)
    with pytest.raises(ConnectionResetError):
        async with arrivals.turn():
            raise ConnectionResetError  # it may have reached the platform all the same
    async with held(arrivals) as after:
        assert after == pytest.approx(1.0)


def test_an_arrival_window_refuses_a_count_of_zero() -> None:
    with pytest.raises(ValueError, match="count >= 1"):
        ArrivalWindow(0)
