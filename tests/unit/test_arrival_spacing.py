"""A chat's messages are spaced a second apart as they *arrive*, not only as they leave.

The platform counts a chat's messages as they arrive. A message whose round trip was slow (a
busy machine, a stalled event loop, the network) may have arrived late; before, the chat's next
one still left a second after the first *left* and could arrive well within a second of it — a
429, which pauses the whole bot. Now, once the answer is back, the chat's next message is
spaced from the first's latest plausible arrival (its answer less the quickest recent round
trip); a fast round trip or a failed request changes nothing. On a simulated clock, through
the reply courier (the seam the senders call) with the in-process limiter.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from typing import Any, cast

import pytest

from bot.bootstrap import App
from bot.core.capabilities import RateBudget
from bot.core.clock import FrozenClock
from bot.core.errors import TransientChannelError
from bot.core.messages import Channel, Reply
from bot.core.ports import NextTurn
from bot.core.wire import replies_to_payload
from jobs.arrival_window import ArrivalWindow
from jobs.dispatcher import OutboxDispatcher
from jobs.ratelimit import MAX_KEYED_BUCKETS, KeyedBuckets, PlatformLimits, Unlimited
from jobs.replies import ReplyCourier
from storage.uow import UnitOfWorkFactory
from tests.unit.dispatcher_support import FakeTelegram
from tests.unit.test_chat_spacing import Timeline

TELEGRAM = Channel.TELEGRAM
CHAT = "810001"
#: the network's own round trip: half out, half back
QUICK = 0.05


class Platform:
    """Sends timed in the arrival window: a request goes out in ``QUICK / 2`` unless a stall
    holds it on the way, and its answer comes back ``QUICK / 2`` after it arrived."""

    def __init__(self, clock: Timeline, window: ArrivalWindow) -> None:
        self.clock, self.window = clock, window
        self.arrived: list[float] = []
        self.stalls: list[float] = []  # how long each next request is held on the way out
        self.failing = False

    async def send(self, unit: Sequence[Reply], next_turn: NextTurn) -> None:
        """Each reply of ``unit`` is one platform message, each after its turn, as the
        adapters send them (:class:`~bot.core.ports.PacedOutbound`)."""
        for index, _ in enumerate(unit):
            if index:
                await next_turn()
            await self._message()

    async def _message(self) -> None:
        async with self.window.turn():
            stall = self.stalls.pop(0) if self.stalls else 0.0
            await self.clock.sleep(QUICK / 2 + stall)
            if self.failing:
                raise TransientChannelError("connection reset")
            self.arrived.append(self.clock.t)
            await self.clock.sleep(QUICK / 2)


class _Outbox:
    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    async def enqueue(self, *args: Any, **kwargs: Any) -> None:
        self.rows.append(kwargs)

    async def has_urgent(self, channel: str, chat: str) -> bool:
        return False  # the dispatcher has sent what was queued


class _Identities:
    async def get(self, channel: str, user_id: str) -> None:
        return None


class _Uow:
    """What the courier's queueing touches of a unit of work."""

    def __init__(self) -> None:
        self.outbox, self.identities = _Outbox(), _Identities()

    async def commit(self) -> None:
        return None


def setting() -> tuple[Timeline, Platform, ReplyCourier, _Uow]:
    clock = Timeline()
    window = ArrivalWindow(1 / 28, now=clock.now)
    budget = RateBudget(per_sender=28.0, per_chat=1.0, per_message=True)
    limits = PlatformLimits(
        {TELEGRAM: budget}, arrivals={TELEGRAM: window}, now=clock.now, sleep=clock.sleep
    )
    uow = _Uow()

    @contextlib.asynccontextmanager
    async def factory() -> AsyncIterator[_Uow]:
        yield uow

    at = FrozenClock(datetime(2026, 1, 1, tzinfo=UTC))
    courier = ReplyCourier(cast(UnitOfWorkFactory, factory), at, limits, wait_limit=60.0)
    return clock, Platform(clock, window), courier, uow


async def reply(courier: ReplyCourier, platform: Platform, chat: str = CHAT) -> str:
    return await courier.deliver(TELEGRAM, chat, [[Reply("ok")]], platform.send)


async def test_a_unit_of_several_messages_reaches_the_chat_a_gap_apart() -> None:
    """Before, the unit took its three turns first and sent its messages back to back."""
    clock, platform, courier, _ = setting()
    unit = [Reply("text"), Reply("photo"), Reply("the rest of the text")]
    three = courier.deliver(TELEGRAM, CHAT, [unit], platform.send)
    await clock.run(three, reply(courier, platform))
    assert len(platform.arrived) == 4
    assert all(b - a >= 1.0 - 1e-9 for a, b in itertools.pairwise(platform.arrived))


async def test_after_a_slow_round_trip_the_chats_next_message_waits_a_gap_after_its_arrival() -> (
    None
):
    clock, platform, courier, _ = setting()
    await clock.run(reply(courier, platform, "other"))  # the window learns the quick trip
    platform.stalls = [0.8]  # the first reply is held 0.8 s on the way: it arrives late
    await clock.run(reply(courier, platform), reply(courier, platform))
    first, second = platform.arrived[1:]
    assert second - first >= 1.0 - 1e-9  # before: 0.2 s, a 429 from the platform


async def test_a_fast_round_trip_adds_no_wait() -> None:
    clock, platform, courier, _ = setting()
    await clock.run(reply(courier, platform), reply(courier, platform))
    first, second = platform.arrived
    assert second - first == pytest.approx(1.0)


async def test_a_failed_request_changes_nothing() -> None:
    clock, platform, courier, uow = setting()
    await clock.run(reply(courier, platform, "other"))  # 0 to 0.05: the quick trip
    platform.stalls, platform.failing = [0.8], True  # slow, then an error instead of an answer
    outcomes: list[str] = []

    async def failing() -> None:
        outcomes.append(await reply(courier, platform))

    await clock.run(failing())
    assert outcomes == ["queued"]  # for the dispatcher to retry
    assert len(uow.outbox.rows) == 1
    platform.failing = False
    await clock.run(reply(courier, platform))
    # spaced from when the failed one left (0.05), as before: its lateness is not looked at
    assert platform.arrived == [pytest.approx(QUICK / 2), pytest.approx(QUICK + 1.0 + QUICK / 2)]


def test_a_chat_answered_late_is_still_forgotten_once_idle() -> None:
    clock = Timeline()
    chats = KeyedBuckets(1.0, now=clock.now, sleep=clock.sleep)
    for n in range(MAX_KEYED_BUCKETS):
        chats.bucket(str(n))
        chats.left(str(n))  # at 0
    clock.t = 0.5
    chats.answered("0", 0.0)  # may have arrived at 0.5: not idle until 1.5
    clock.t = 1.2
    chats.bucket("new")  # over the bound: the idle ones are forgotten
    assert len(chats) == 2
    chats.answered("1", 0.0)  # forgotten: an answer does not bring it back
    assert list(chats._left) == ["0"]  # the bound on the chats remembered holds
    clock.t = 1.5
    chats._forget_idle()
    assert len(chats) == 0
    assert not chats._left


class Answers(Unlimited):
    """No pacing; the answers the sender reported."""

    def __init__(self) -> None:
        self.answered_to: list[str] = []

    def answered(self, channel: Channel, chat: str) -> None:
        self.answered_to.append(chat)


async def test_the_dispatcher_reports_each_answered_send_and_no_failed_one(app: App) -> None:
    for n, chat in enumerate(["1", "2", "3"]):
        async with app.uow() as uow:
            payload = replies_to_payload([Reply(text=f"r{n}")])
            await uow.outbox.enqueue(f"sale:{n}", "telegram", chat, payload, app.clock.now())
            await uow.commit()
    telegram = FakeTelegram(failures=[TransientChannelError("connection reset")])
    limiter = Answers()
    dispatcher = OutboxDispatcher(app.uow, app.clock, {TELEGRAM: telegram}, limiter=limiter)
    result = await dispatcher.drain_once()
    assert result.sent == 2
    sent_to = sorted(push.user_id for push in telegram.pushes)
    assert sorted(limiter.answered_to) == sent_to  # the failed one is not reported
