"""The outbox repository: idempotent enqueue, due rows, claims and conditional marks."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import delete

from bot.bootstrap import App
from bot.core.clock import FrozenClock
from storage.models import OutboxMessage
from storage.raw_session import session_of
from tests.storage.outbox_support import queue

LEASE = timedelta(minutes=5)


async def _row(app: App, key: str) -> OutboxMessage:
    async with app.uow() as uow:
        row = await uow.outbox.by_key(key)
    assert row is not None
    return row


async def test_enqueue_gives_each_row_a_uuid_retry_key(app: App) -> None:
    await queue(app, "a")
    await queue(app, "b")
    a, b = await _row(app, "a"), await _row(app, "b")
    assert (a.status, a.attempts) == ("pending", 0)
    assert uuid.UUID(str(a.retry_key)).version == 4
    assert a.retry_key != b.retry_key


async def test_enqueue_twice_with_one_key_queues_once(app: App) -> None:
    async with app.uow() as uow:
        first = await uow.outbox.enqueue(
            "k", "line", "U1", {"v": 1, "replies": []}, app.clock.now()
        )
        again = await uow.outbox.enqueue(
            "k", "line", "U2", {"v": 1, "replies": []}, app.clock.now()
        )
        await uow.commit()
        count = await uow.outbox.pending_count()
    assert (first, again, count) == (True, False, 1)
    assert (await _row(app, "k")).user_id == "U1"


async def test_enqueue_of_a_key_committed_earlier_is_refused(app: App) -> None:
    await queue(app, "k")
    async with app.uow() as uow:
        assert not await uow.outbox.enqueue("k", "line", "U", {}, app.clock.now())
        assert uow.outbox.enqueued == 0


async def test_due_takes_pending_rows_whose_time_has_come_oldest_first(
    app: App, clock: FrozenClock
) -> None:
    now = clock.now()
    async with app.uow() as uow:
        for key, wait in (("later", 60), ("second", -10), ("first", -20), ("now", 0)):
            await uow.outbox.enqueue(
                key, "telegram", "1", {}, now, not_before=now + timedelta(seconds=wait)
            )
        await uow.commit()
    async with app.uow() as uow:
        rows = await uow.outbox.due(now, limit=10)
        limited = await uow.outbox.due(now, limit=2)
    assert [r.dedupe_key for r in rows] == ["first", "second", "now"]
    assert [r.dedupe_key for r in limited] == ["first", "second"]


async def test_due_leaves_out_sent_rows_and_other_channels(app: App, clock: FrozenClock) -> None:
    await queue(app, "tg")
    await queue(app, "line", channel="line")
    await queue(app, "done")
    async with app.uow() as uow:
        await uow.outbox.mark_sent((await _row(app, "done")).id, clock.now())
        await uow.commit()
    async with app.uow() as uow:
        rows = await uow.outbox.due(clock.now(), 10, channels=["telegram"])
    assert [r.dedupe_key for r in rows] == ["tg"]


async def test_a_claimed_row_is_not_due_again_until_its_lease_ends(
    app: App, clock: FrozenClock
) -> None:
    await queue(app, "a")
    now = clock.now()
    async with app.uow() as uow:
        claimed = await uow.outbox.claim(now, 10, now + LEASE, ["telegram"])
        await uow.commit()
    async with app.uow() as uow:
        during = await uow.outbox.claim(now + LEASE / 2, 10, now + 2 * LEASE, ["telegram"])
        after = await uow.outbox.due(now + LEASE, 10)
    assert [m.payload for m in claimed] == [{"v": 1, "replies": [{"text": "hi"}]}]
    assert during == []
    assert [r.dedupe_key for r in after] == ["a"]


async def test_mark_sent_records_the_time_once(app: App, clock: FrozenClock) -> None:
    await queue(app, "a")
    row_id = (await _row(app, "a")).id
    async with app.uow() as uow:
        first = await uow.outbox.mark_sent(row_id, clock.now())
        second = await uow.outbox.mark_sent(row_id, clock.now())
        await uow.commit()
    row = await _row(app, "a")
    assert (first, second) == (True, False)
    assert (row.status, row.sent_at, row.attempts) == ("sent", clock.now(), 1)


async def test_reschedule_counts_an_attempt_only_when_asked(app: App, clock: FrozenClock) -> None:
    await queue(app, "a")
    row_id = (await _row(app, "a")).id
    later = clock.now() + timedelta(seconds=30)
    async with app.uow() as uow:
        await uow.outbox.reschedule(row_id, later, "429", count_attempt=False)
        await uow.outbox.reschedule(row_id, later, "503", count_attempt=True)
        await uow.commit()
    row = await _row(app, "a")
    assert (row.status, row.attempts, row.not_before, row.error) == ("pending", 1, later, "503")


async def test_mark_failed_keeps_the_error_text_clipped(app: App) -> None:
    await queue(app, "a")
    async with app.uow() as uow:
        await uow.outbox.mark_failed((await _row(app, "a")).id, "x" * 900)
        await uow.commit()
    row = await _row(app, "a")
    assert (row.status, len(row.error or "")) == ("failed", 500)


async def test_mark_unreachable_also_marks_the_chat_account(app: App, clock: FrozenClock) -> None:
    async with app.uow() as uow:
        await uow.identities.touch("telegram", "1", clock.now())
        await uow.commit()
    await queue(app, "a")
    async with app.uow() as uow:
        assert await uow.outbox.mark_unreachable((await _row(app, "a")).id, "blocked")
        await uow.commit()
    async with app.uow() as uow:
        identity = await uow.identities.get("telegram", "1")
    assert (await _row(app, "a")).status == "unreachable"
    assert identity is not None
    assert identity.reachable is False


async def test_marks_on_a_withdrawn_row_change_nothing(app: App, clock: FrozenClock) -> None:
    await queue(app, "a")
    row_id = (await _row(app, "a")).id
    async with app.uow() as uow:
        await session_of(uow).execute(delete(OutboxMessage))
        await uow.commit()
    async with app.uow() as uow:
        assert not await uow.outbox.mark_sent(row_id, clock.now())
        assert not await uow.outbox.mark_unreachable(row_id, "blocked")
        assert not await uow.outbox.reschedule(row_id, clock.now(), None, count_attempt=True)


async def test_release_makes_claimed_rows_due_at_once(app: App, clock: FrozenClock) -> None:
    await queue(app, "a")
    now = clock.now()
    async with app.uow() as uow:
        claimed = await uow.outbox.claim(now, 10, now + LEASE, ["telegram"])
        await uow.outbox.release([m.id for m in claimed], now)
        await uow.commit()
    async with app.uow() as uow:
        assert [r.dedupe_key for r in await uow.outbox.due(now, 10)] == ["a"]


async def test_pending_count_by_channel(app: App) -> None:
    await queue(app, "a")
    await queue(app, "b", channel="line")
    async with app.uow() as uow:
        counts = (
            await uow.outbox.pending_count(),
            await uow.outbox.pending_count("line"),
            await uow.outbox.has_pending("console"),
        )
    assert counts == (2, 1, False)
