"""The outbox dispatcher: each row sent once, failures retried, waited out or given up."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import pytest

from bot.bootstrap import App
from bot.core.clock import FrozenClock
from bot.core.errors import (
    PermanentChannelError,
    QuotaExhausted,
    RateLimited,
    RecipientUnreachable,
    TransientChannelError,
)
from bot.core.messages import Channel
from jobs.dispatcher import MAX_ATTEMPTS, DrainResult, OutboxDispatcher
from storage.models import OutboxMessage
from storage.raw_session import session_of
from tests.storage.outbox_support import queue
from tests.unit.dispatcher_support import FakeLine, FakeTelegram, Push


async def _row(app: App, key: str) -> OutboxMessage:
    async with app.uow() as uow:
        row = await uow.outbox.by_key(key)
    assert row is not None
    return row


def _dispatcher(app: App, *fakes: FakeTelegram | FakeLine) -> OutboxDispatcher:
    return OutboxDispatcher(app.uow, app.clock, {fake.channel: fake for fake in fakes})


async def test_a_queued_message_is_pushed_and_marked_sent(app: App, clock: FrozenClock) -> None:
    telegram = FakeTelegram()
    await queue(app, "a", user_id="42", text="receipt")
    result = await _dispatcher(app, telegram).drain_once()
    row = await _row(app, "a")
    assert result == DrainResult(sent=1)
    assert telegram.pushes == [Push("42", ["receipt"])]
    assert (row.status, row.sent_at) == ("sent", clock.now())


async def test_a_second_drain_sends_nothing_new(app: App) -> None:
    telegram = FakeTelegram()
    await queue(app, "a")
    dispatcher = _dispatcher(app, telegram)
    await dispatcher.drain_once()
    assert await dispatcher.drain_once() == DrainResult()
    assert len(telegram.pushes) == 1


async def test_one_dedupe_key_queued_twice_is_sent_once(app: App) -> None:
    telegram = FakeTelegram()
    await queue(app, "sale:R1:receipt", text="first")
    await queue(app, "sale:R1:receipt", text="again")
    await _dispatcher(app, telegram).drain_once()
    assert telegram.pushes == [Push("1", ["first"])]


async def test_rate_limit_waits_retry_after_without_using_an_attempt(
    app: App, clock: FrozenClock
) -> None:
    telegram = FakeTelegram(failures=[RateLimited(retry_after=30)])
    await queue(app, "a")
    dispatcher = _dispatcher(app, telegram)
    assert (await dispatcher.drain_once()).rate_limited == 1
    row = await _row(app, "a")
    assert (row.status, row.attempts) == ("pending", 0)
    assert row.not_before == clock.now() + timedelta(seconds=30)
    clock.advance(timedelta(seconds=29))
    assert await dispatcher.drain_once() == DrainResult()
    clock.advance(timedelta(seconds=1))
    assert (await dispatcher.drain_once()).sent == 1
    assert len(telegram.pushes) == 1


async def test_rate_limit_rests_the_channel_for_the_rest_of_the_batch(app: App) -> None:
    telegram = FakeTelegram(failures=[RateLimited(retry_after=5)])
    await queue(app, "a")
    await queue(app, "b")
    result = await _dispatcher(app, telegram).drain_once()
    assert (result.rate_limited, result.released, telegram.pushes) == (1, 1, [])
    assert (await _row(app, "b")).not_before == (await _row(app, "a")).not_before


async def test_transient_errors_back_off_then_fail_after_six_attempts(
    app: App, clock: FrozenClock
) -> None:
    telegram = FakeTelegram(failures=[TransientChannelError("502")] * MAX_ATTEMPTS)
    await queue(app, "a")
    dispatcher = _dispatcher(app, telegram)
    waits = []
    for _ in range(MAX_ATTEMPTS - 1):
        assert (await dispatcher.drain_once()).retrying == 1
        row = await _row(app, "a")
        waits.append((row.not_before - clock.now()).total_seconds())
        clock.set(row.not_before)
    assert (await dispatcher.drain_once()).failed == 1
    row = await _row(app, "a")
    assert waits == [5, 30, 120, 600, 600]
    assert (row.status, row.attempts, row.error) == ("failed", 6, "TransientChannelError('502')")


async def test_a_transient_error_then_success_is_sent_once(app: App, clock: FrozenClock) -> None:
    telegram = FakeTelegram(failures=[TransientChannelError("timeout")])
    await queue(app, "a")
    dispatcher = _dispatcher(app, telegram)
    await dispatcher.drain_once()
    clock.advance(timedelta(seconds=5))
    await dispatcher.drain_once()
    row = await _row(app, "a")
    assert (row.status, row.attempts, len(telegram.pushes)) == ("sent", 2, 1)


async def test_unreachable_recipient_marks_row_and_chat_account(
    app: App, clock: FrozenClock
) -> None:
    async with app.uow() as uow:
        await uow.identities.touch("telegram", "1", clock.now())
        await uow.commit()
    telegram = FakeTelegram(failures=[RecipientUnreachable("bot was blocked by the user")])
    await queue(app, "a")
    assert (await _dispatcher(app, telegram).drain_once()).unreachable == 1
    async with app.uow() as uow:
        identity = await uow.identities.get("telegram", "1")
    assert (await _row(app, "a")).status == "unreachable"
    assert identity is not None
    assert identity.reachable is False


async def test_a_permanent_error_fails_the_row_with_its_text(app: App) -> None:
    telegram = FakeTelegram(failures=[PermanentChannelError("Bad Request: chat not found")])
    await queue(app, "a")
    await _dispatcher(app, telegram).drain_once()
    row = await _row(app, "a")
    assert (row.status, row.error) == ("failed", "Bad Request: chat not found")


async def test_an_unreadable_payload_fails_without_a_push(app: App, clock: FrozenClock) -> None:
    telegram = FakeTelegram()
    async with app.uow() as uow:
        await uow.outbox.enqueue("bad", "telegram", "1", {"v": 99}, clock.now())
        await uow.commit()
    assert (await _dispatcher(app, telegram).drain_once()).failed == 1
    assert telegram.pushes == []


async def test_line_quota_exhausted_rests_line_for_an_hour(
    app: App, clock: FrozenClock, caplog: pytest.LogCaptureFixture
) -> None:
    line = FakeLine(failures=[QuotaExhausted("You have reached your monthly limit.")])
    await queue(app, "a", channel="line", user_id="U1")
    dispatcher = _dispatcher(app, line)
    with caplog.at_level(logging.WARNING, logger="jobs.dispatcher"):
        assert (await dispatcher.drain_once()).quota_exhausted == 1
    row = await _row(app, "a")
    assert (row.status, row.attempts) == ("pending", 0)
    assert row.not_before == clock.now() + timedelta(hours=1)
    assert "quota" in caplog.text
    await queue(app, "b", channel="line", user_id="U2")
    clock.advance(timedelta(minutes=59))
    assert await dispatcher.drain_once() == DrainResult()  # no hot retry loop
    clock.advance(timedelta(minutes=1))
    assert (await dispatcher.drain_once()).sent == 2


async def test_line_rows_carry_the_same_retry_key_on_every_try(
    app: App, clock: FrozenClock
) -> None:
    line = FakeLine(failures=[TransientChannelError("500")])
    await queue(app, "a", channel="line", user_id="U1")
    dispatcher = _dispatcher(app, line)
    await dispatcher.drain_once()
    clock.advance(timedelta(seconds=5))
    await dispatcher.drain_once()
    row = await _row(app, "a")
    assert [call.retry_key for call in line.calls] == [row.retry_key, row.retry_key]
    assert row.status == "sent"


async def test_a_row_whose_channel_has_no_adapter_stays_pending_reported_once(
    app: App, caplog: pytest.LogCaptureFixture
) -> None:
    await queue(app, "tg")
    line = FakeLine()
    dispatcher = OutboxDispatcher(app.uow, app.clock, {Channel.LINE: line}, batch=10)
    with caplog.at_level(logging.WARNING, logger="jobs.dispatcher"):
        await dispatcher.drain_once()
        await dispatcher.drain_once()
    assert (await _row(app, "tg")).status == "pending"
    assert caplog.text.count("not configured") == 1


async def test_console_rows_wait_quietly_for_the_console(
    app: App, caplog: pytest.LogCaptureFixture
) -> None:
    await queue(app, "c", channel="console", user_id="owner")
    with caplog.at_level(logging.WARNING, logger="jobs.dispatcher"):
        await _dispatcher(app, FakeTelegram()).drain_once()
    assert (await _row(app, "c")).status == "pending"
    assert caplog.text == ""


async def test_a_row_withdrawn_while_in_flight_stays_withdrawn(app: App) -> None:
    await queue(app, "a")
    row_id = (await _row(app, "a")).id

    async def erase_member_data() -> None:  # as /deleteme does, while the push is under way
        async with app.uow() as uow:
            row = await uow.outbox.get(row_id)
            assert row is not None
            await session_of(uow).delete(row)
            await uow.commit()

    result = await _dispatcher(app, FakeTelegram(on_push=erase_member_data)).drain_once()
    assert (result.withdrawn, result.sent) == (1, 0)
    async with app.uow() as uow:
        assert await uow.outbox.get(row_id) is None


async def test_stopping_mid_batch_releases_the_unsent_rows(app: App, clock: FrozenClock) -> None:
    stop = asyncio.Event()

    async def stop_now() -> None:
        stop.set()

    await queue(app, "a")
    await queue(app, "b")
    telegram = FakeTelegram(on_push=stop_now)
    result = await _dispatcher(app, telegram).drain_once(stop=stop)
    assert (result.sent, result.released) == (1, 1)
    assert (await _row(app, "b")).not_before == clock.now()
