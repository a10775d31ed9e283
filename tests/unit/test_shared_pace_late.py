"""A message that missed its shared slot too often goes late (``jobs.shared_pace``) and must
not crowd what comes after it: its chat's next message is spaced a second from when it *left*
(before, from its slot: the two reached the chat half a second apart, a 429), and it leaves a
slot of the bot unused for the windows it is carried into. On a simulated clock, with the
slots claimed from an in-memory copy of the database's rule."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import AsyncIterator, Sequence
from typing import cast

import pytest

from bot.core.capabilities import RateBudget
from bot.core.messages import Channel
from jobs.arrival_window import ArrivalWindow
from jobs.shared_pace import SharedPace
from storage.repositories.pace import Slot
from storage.uow import UnitOfWorkFactory
from tests.unit.test_chat_spacing import Timeline

TELEGRAM = Channel.TELEGRAM
PACE = 26.0
CHAT = "810001"
#: how long a slow claim takes: many gaps, so its slot is missed
SLOW = 0.5


class _Pace:
    """``send_pace`` as :meth:`storage.repositories.pace.PaceRepository.claim_many` keeps it."""

    def __init__(self, clock: Timeline) -> None:
        self.clock = clock
        self.next_at: dict[str, float] = {}
        self.claimed: list[str | None] = []
        #: how long a claim takes to be answered (a busy database, a busy machine), and how much
        #: longer each claim takes than the one before
        self.delay = 0.0
        self.slower = 0.0
        #: the slots granted, as (chat, moment), and each claim's chats
        self.granted: list[tuple[str | None, float]] = []
        self.batches: list[list[str | None]] = []
        self.turns: list[float] = []

    async def claim_many(
        self, sender: str, chats: Sequence[str | None], now: float, gap: float, chat_gap: float
    ) -> list[Slot]:
        self.batches.append(list(chats))
        if self.turns:  # claims taking these in turn
            self.delay = self.turns[len(self.batches) % len(self.turns)]
        await self.clock.sleep(self.delay)  # a slot dated when the claim began
        self.delay += self.slower
        slots = []
        for chat in chats:
            self.claimed.append(chat)
            if chat is not None and self.next_at.get(chat, 0.0) > now:
                slots.append(Slot(False, self.next_at[chat]))
                continue
            slot = max(now, self.next_at.get(sender, 0.0))
            self.next_at[sender] = slot + gap
            if chat is not None:
                self.next_at[chat] = slot + chat_gap
            slots.append(Slot(True, slot))
            self.granted.append((chat, slot))
        return slots

    async def forget_before(self, moment: float) -> None:
        return None


class _Uow:
    def __init__(self, clock: Timeline) -> None:
        self.pace = _Pace(clock)

    async def commit(self) -> None:
        return None


def pace_on(
    clock: Timeline, rate: float = PACE, arrivals: ArrivalWindow | None = None
) -> tuple[SharedPace, _Uow]:
    uow = _Uow(clock)

    @contextlib.asynccontextmanager
    async def factory() -> AsyncIterator[_Uow]:
        yield uow

    # the claim's unit of work (on PostgreSQL one without a transaction) is the same fake
    factory.autocommitting = factory  # type: ignore[attr-defined]
    factory.bare_claims = lambda: None  # type: ignore[attr-defined]  # (SQLite's way)

    budget = RateBudget(per_sender=rate, per_chat=1.0, per_message=True)
    pace = SharedPace(
        {TELEGRAM: budget},
        cast(UnitOfWorkFactory, factory),
        arrivals=None if arrivals is None else {TELEGRAM: arrivals},
        now=clock.now,
        sleep=clock.sleep,
        local_now=clock.now,
    )
    return pace, uow


async def test_a_chats_next_message_is_spaced_from_when_a_late_one_left() -> None:
    clock = Timeline()
    left: list[float] = []
    pace, uow = pace_on(clock)
    # every claim for the first message is answered too late for its slot: it is missed
    # ``MAX_MISSED`` times and then used, late
    uow.pace.delay = SLOW

    async def send(chat: str, times: int) -> None:
        for _ in range(times):
            await pace.before_send(TELEGRAM, "push", chat, 1)
            uow.pace.delay = 0.0
            left.append(clock.t)

    await clock.run(send(CHAT, 2))
    assert len(left) == 2
    assert left[1] - left[0] >= 1.0 - 1e-9  # before: 0.5 s, the first left that late
    # the bot's slot it was late for lies unused: one more is claimed and left unused, for the
    # windows the late one is carried into (before: none)
    assert uow.pace.claimed.count(None) == 1


async def test_a_slot_a_millisecond_late_is_used_at_a_rate_of_many_a_second() -> None:
    # at 100,000 a second (a gap of 10 µs) a claim answered a millisecond after it began found
    # its slot missed every time: it was claimed three times and one more left unused
    clock = Timeline()
    pace, uow = pace_on(clock, rate=100_000.0)
    uow.pace.delay = 0.001

    await clock.run(pace.before_send(TELEGRAM, "push", CHAT, 1))

    assert uow.pace.claimed == [f"telegram:{CHAT}"]


async def test_a_slot_late_by_more_than_its_gap_is_still_missed_at_telegrams_rate() -> None:
    clock = Timeline()
    pace, uow = pace_on(clock)
    uow.pace.delay = 0.05  # more than a gap at 26 a second (38 ms)
    uow.pace.slower = 0.1  # and each claim slower than the last: dated ahead, still missed

    await clock.run(pace.before_send(TELEGRAM, "push", CHAT, 1))

    # missed, claimed again (MAX_MISSED times), then used late with an unused slot paying
    assert uow.pace.claimed.count(f"telegram:{CHAT}") > 1
    assert uow.pace.claimed.count(None) == 1


@pytest.mark.parametrize("rate", [PACE, 100_000.0])
async def test_a_claim_as_slow_as_the_last_dates_its_slot_ahead_and_it_is_used(
    rate: float,
) -> None:
    # every claim answered 50 ms after it began: more than a gap at 26 a second, more than the
    # 10 ms floor at 100,000. Dated when it began, each slot was missed: three claims and one
    # slot more left unused, for every message
    clock = Timeline()
    pace, uow = pace_on(clock, rate=rate)
    uow.pace.delay = 0.05
    left: list[float] = []

    async def send(chats: list[str]) -> None:
        for chat in chats:
            await pace.before_send(TELEGRAM, "push", chat, 1)
            left.append(clock.t)

    await clock.run(send([CHAT, "810002", "810003"]))

    # the first claim, with no turnaround to go by, is missed (its chat then busy for a
    # second: asked once more in between); from then on each slot comes as its answer does
    # and is used on time, and no slot is left unused
    granted = [chat for chat, _ in uow.pace.granted]
    assert granted == [f"telegram:{CHAT}", f"telegram:{CHAT}", "telegram:810002", "telegram:810003"]
    # and nothing left before its slot, nor closer to the one before than a gap
    slots = [at for chat, at in uow.pace.granted if chat is not None]
    assert all(gone >= at for gone, at in zip(left, slots[1:], strict=True))
    assert all(b - a >= 1.0 / rate - 1e-9 for a, b in itertools.pairwise(slots))


async def test_the_slots_owed_for_late_answers_go_in_the_claim_of_the_next_message() -> None:
    clock = Timeline()
    window = ArrivalWindow(0.01, now=clock.now)
    pace, uow = pace_on(clock, arrivals=window)

    async def late_then_send() -> None:
        for took in (0.02, 0.3, 0.3):  # the quickest round trip, then two answered late
            async with window.turn():
                await clock.sleep(took)
        await pace.before_send(TELEGRAM, "push", CHAT, 1)

    await clock.run(late_then_send())

    # two slots left unused, ahead of the message's own, in one claim (before: a claim of
    # their own first, the message's slot a claim later)
    assert uow.pace.batches == [[None, None, f"telegram:{CHAT}"]]
    assert [chat for chat, _ in uow.pace.granted] == [None, None, f"telegram:{CHAT}"]


async def test_claims_whose_turnarounds_vary_date_their_slots_by_the_slower_ones() -> None:
    # one claim in three answered after 50 ms, the others after 20: dated ahead by the median
    # (20 ms), every third slot was missed by 30 ms, claimed again and paid for
    clock = Timeline()
    pace, uow = pace_on(clock, rate=100_000.0)
    uow.pace.turns = [0.02, 0.02, 0.05]

    async def send() -> None:
        for n in range(12):
            await pace.before_send(TELEGRAM, "push", f"81{n:04}", 1)

    await clock.run(send())

    later = [chat for batch in uow.pace.batches[3:] for chat in batch]
    assert len(later) == len(set(later))  # each message's slot claimed once
    assert None not in later  # and none left unused
