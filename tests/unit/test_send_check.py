"""A fan-out pass's send check looks again only at rows its claim checked a while ago: rows
claimed within the last second are not queried twice, older ones withdrawn meanwhile drop."""

from __future__ import annotations

import tracemalloc
from datetime import timedelta

from bot.bootstrap import App
from bot.core.clock import FrozenClock
from bot.core.messages import Reply
from bot.core.wire import replies_to_payload
from jobs import send_check
from jobs.delivery_plan import Delivery
from jobs.send_check import RECHECK, SendCheck
from storage.repositories.outbox import QueuedMessage

_SOURCE = send_check.__file__


def _never_opened() -> object:
    raise AssertionError("the check should not query the database within its interval")


async def _claim(app: App, keys: list[str]) -> list[QueuedMessage]:
    now = app.clock.now()
    async with app.uow() as uow:
        payload = replies_to_payload([Reply(text="1-get-1")])
        for key in keys:
            await uow.outbox.enqueue(key, "line", f"U-{key}", payload, now, promotional=True)
        rows = await uow.outbox.claim(now, 100, now + timedelta(minutes=5), ["line"])
        await uow.commit()
    return [row for row in rows if row.dedupe_key in keys]


async def _withdraw(app: App, row: QueuedMessage) -> None:
    async with app.uow() as uow:
        await uow.withdrawals.rows([row.id])
        await uow.commit()


async def test_rows_claimed_later_are_checked_once_they_waited_a_while(
    app: App, clock: FrozenClock
) -> None:
    check = SendCheck(app.uow, clock.now, [])
    early = await _claim(app, ["a", "b"])
    check.add(early)
    clock.advance(RECHECK / 2)
    late = await _claim(app, ["c", "d"])
    check.add(late)
    await _withdraw(app, early[0])
    await _withdraw(app, late[0])
    clock.advance(RECHECK / 2)
    # "a" was claimed a full interval ago: looked at again and dropped; "c" was claimed half
    # an interval ago (its claim checked it): not queried yet
    kept = await check.keep(Delivery(tuple(early + late), multicast=True, retry_key="k"))
    assert kept is not None
    assert [row.dedupe_key for row in kept.rows] == ["b", "c", "d"]
    clock.advance(RECHECK)
    again = await check.keep(Delivery((late[0],), retry_key="k2"))
    assert again is None  # a full interval later "c" is looked at too


def test_recorded_rows_leave_the_check_at_once(clock: FrozenClock) -> None:
    """A fast fan-out pass claims and records many requests within one check interval: what
    the check keeps of them must not grow with the rows already recorded."""
    check = SendCheck(_never_opened, clock.now, [])
    payload = replies_to_payload([Reply(text="1-get-1")])
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        for claim in range(40):  # 40 claims of 500 rows, each recorded before the next
            first = 10**7 + claim * 500
            rows = tuple(
                QueuedMessage(n, "line", f"U{n:032x}", n, payload, 0, None, True)
                for n in range(first, first + 500)
            )
            check.add(rows)
            check.done(Delivery(rows, multicast=True, retry_key="k"))
            del rows
        kept = tracemalloc.take_snapshot().compare_to(before, "filename")
    finally:
        tracemalloc.stop()
    grown = sum(stat.size_diff for stat in kept if stat.traceback[0].filename == _SOURCE)
    # the rows of one claim (500) in hand at most: well under the 20,000 recorded
    assert grown < 100_000, grown
