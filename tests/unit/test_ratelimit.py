"""Token buckets on a simulated clock: pace, windows, pauses, per-chat spacing."""

from __future__ import annotations

import asyncio
from typing import Final

import pytest

from bot.core.capabilities import RateBudget
from bot.core.messages import Channel
from jobs.ratelimit import KeyedBuckets, PlatformLimits, TokenBucket, bucket_for

#: the documented platform budgets (the ones each channel's capabilities declare)
_BUDGETS: Final = {
    Channel.TELEGRAM: RateBudget(per_chat=1, per_sender=30, per_message=True),
    Channel.LINE: RateBudget(per_endpoint=(("push", 2000), ("multicast", 200))),
}


class SimulatedTime:
    """A monotonic clock that moves only when someone sleeps."""

    def __init__(self) -> None:
        self.t = 0.0
        self.sleeps = 0

    def now(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.sleeps += 1
        self.t += max(seconds, 0.0)
        await asyncio.sleep(0)


def most_in_any_window(times: list[float], seconds: float = 1.0) -> int:
    return max(sum(1 for u in times if t <= u < t + seconds - 1e-9) for t in times)


async def test_a_bucket_of_burst_one_spaces_sends_evenly() -> None:
    clock = SimulatedTime()
    bucket = TokenBucket(30, 1, now=clock.now, sleep=clock.sleep)
    times = []
    for _ in range(5):
        await bucket.acquire()
        times.append(clock.t)
    assert times == pytest.approx([0, 1 / 30, 2 / 30, 3 / 30, 4 / 30])


async def test_concurrent_senders_never_exceed_the_rate_in_any_second() -> None:
    clock = SimulatedTime()
    bucket = TokenBucket(30, 1, now=clock.now, sleep=clock.sleep)
    times: list[float] = []

    async def sender() -> None:
        for _ in range(25):
            await bucket.acquire()
            times.append(clock.t)

    await asyncio.gather(*(sender() for _ in range(8)))
    assert len(times) == 200
    assert most_in_any_window(times) <= 30
    assert clock.t == pytest.approx(199 / 30)


async def test_a_burst_lets_saved_tokens_go_at_once() -> None:
    clock = SimulatedTime()
    bucket = TokenBucket(10, 3, now=clock.now, sleep=clock.sleep)
    for _ in range(3):
        await bucket.acquire()
    assert clock.t == 0
    await bucket.acquire()
    assert clock.t == pytest.approx(0.1)


async def test_a_pause_holds_every_sender_for_retry_after() -> None:
    clock = SimulatedTime()
    bucket = TokenBucket(30, 1, now=clock.now, sleep=clock.sleep)
    await bucket.acquire()
    bucket.pause(2.0)
    await bucket.acquire()
    assert clock.t >= 2.0


async def test_one_chat_waits_a_second_but_other_chats_do_not() -> None:
    clock = SimulatedTime()
    chats = KeyedBuckets(1, 1, now=clock.now, sleep=clock.sleep)
    await chats.acquire("a")
    await chats.acquire("b")
    assert clock.t == 0
    await chats.acquire("a")
    assert clock.t == pytest.approx(1.0)


def test_a_bucket_refuses_a_rate_of_zero() -> None:
    with pytest.raises(ValueError, match="rate"):
        TokenBucket(0)


async def test_telegram_takes_one_token_per_message_of_a_row() -> None:
    clock = SimulatedTime()
    limits = PlatformLimits(_BUDGETS, now=clock.now, sleep=clock.sleep)
    await limits.before_send(Channel.TELEGRAM, "push", "42", messages=2)
    assert clock.t == pytest.approx(1.0)  # the chat's second message waits a second


async def test_line_endpoints_have_buckets_of_their_own() -> None:
    clock = SimulatedTime()
    limits = PlatformLimits(_BUDGETS, now=clock.now, sleep=clock.sleep)
    while clock.t == 0:  # the multicast bucket's burst (2 of its 200 a second), then a wait
        await limits.before_send(Channel.LINE, "multicast", "", 1)
    waited = clock.t
    await limits.before_send(Channel.LINE, "push", "U1", 1)
    assert clock.t == waited  # the push endpoint's bucket is still full


async def test_a_commit_s_replies_on_line_go_without_a_wait_each() -> None:
    """The replies one batch of the group commit releases together take their turns at once:
    at burst 1, 2,000 a second meant a wake-up of the event loop (at least one iteration)
    per reply, and the last of 20 waited behind the other 19."""
    clock = SimulatedTime()
    limits = PlatformLimits(_BUDGETS, now=clock.now, sleep=clock.sleep)
    sleeps_before = clock.sleeps
    await asyncio.gather(
        *(limits.before_send(Channel.LINE, "push", f"U{n}", 1, urgent=True) for n in range(20))
    )
    assert clock.sleeps == sleeps_before


@pytest.mark.parametrize(("rate", "sends"), [(2000, 5000), (200, 700), (30, 80)])
async def test_a_budget_s_bucket_never_exceeds_its_rate_in_any_second(
    rate: int, sends: int
) -> None:
    clock = SimulatedTime()
    bucket = bucket_for(rate, now=clock.now, sleep=clock.sleep)
    times: list[float] = []

    async def sender(count: int) -> None:
        for _ in range(count):
            await bucket.acquire()
            times.append(clock.t)

    await asyncio.gather(*(sender(sends // 4) for _ in range(4)))
    assert most_in_any_window(times) <= rate
    assert most_in_any_window(times) >= rate * 0.99  # and spends nearly all of it


def test_telegram_s_bot_and_chat_rates_keep_a_burst_of_one() -> None:
    assert bucket_for(30).burst == 1
    assert bucket_for(1).burst == 1


async def test_an_urgent_taker_goes_before_the_ordinary_ones_already_waiting() -> None:
    bucket = TokenBucket(200, 1)
    order: list[str] = []
    two_taken = asyncio.Event()

    async def take(name: str, urgent: bool = False) -> None:
        await bucket.acquire(urgent=urgent)
        order.append(name)
        if len(order) == 2:
            two_taken.set()

    waiting = [asyncio.create_task(take(f"row{n}")) for n in range(10)]
    await two_taken.wait()
    await take("reply", urgent=True)
    await asyncio.gather(*waiting)
    assert order.index("reply") <= 3  # behind at most the one taking its token just then
    assert sorted(order) == sorted([*(f"row{n}" for n in range(10)), "reply"])


async def test_urgent_and_ordinary_takers_share_one_rate() -> None:
    clock = SimulatedTime()
    bucket = TokenBucket(30, 1, now=clock.now, sleep=clock.sleep)
    times: list[float] = []

    async def sender(urgent: bool) -> None:
        for _ in range(20):
            await bucket.acquire(urgent=urgent)
            times.append(clock.t)

    await asyncio.gather(*(sender(n % 2 == 0) for n in range(6)))
    assert len(times) == 120
    assert most_in_any_window(times) <= 30
