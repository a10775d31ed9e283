"""A reply or an outbox row that becomes several Telegram messages and fails after some of
them went out (a 429 on the second message, a 5xx on the third) is retried from the message
that failed. Telegram has no idempotency key: before, the retry sent the whole unit again, and
the chat got the card's photo or the first part of a long text twice."""

from __future__ import annotations

import pytest

from bot.bootstrap import App
from bot.core.clock import FrozenClock
from bot.core.messages import Attachment, Channel, Identity, Reply
from bot.core.wire import replies_to_payload
from simulator.fakes.apart import serving_apart
from simulator.fakes.telegram_api import Call, FakeTelegramAPI
from tests.e2e.reply_support import process, real_time, until
from tests.e2e.test_multi_message_units import LONG, PNG

CHAT = 841_001


def fail_once_after(fake: FakeTelegramAPI, accepted: int, status: int, description: str) -> None:
    """The chat's message after its ``accepted``-th accepted one is refused once."""

    async def arm(call: Call) -> None:
        if call.chat_id == CHAT and len(fake.sent(CHAT)) == accepted:
            fake.fail(status, description, chat_id=CHAT, retry_after=1, times=1)

    fake.after_send = arm


def texts(fake: FakeTelegramAPI) -> list[str]:
    """What the chat received, in order (a photo by its caption, marked)."""
    return [call.text or f"photo:{call.method}" for call in fake.sent(CHAT)]


@pytest.mark.parametrize("shared", [False, True])
async def test_a_reply_refused_after_its_first_message_sends_the_rest_only(
    app: App, clock: FrozenClock, shared: bool
) -> None:
    real_time(clock)
    fake = FakeTelegramAPI(rate=30)
    fail_once_after(fake, 1, 429, "Too Many Requests: retry after 1")
    async with serving_apart(fake) as (_, base), process(app, base, shared=shared) as shop:
        await shop.channel.deliver(Identity(Channel.TELEGRAM, str(CHAT)), [Reply(LONG)])

        async def delivered() -> bool:
            return len(fake.sent(CHAT)) >= 2

        await until(delivered, 30, "the rest of the reply")
        await until(lambda: _none_pending(app), 10, "the queued rest recorded as sent")
    received = texts(fake)
    assert len(received) == 2, received  # before: 3, the first part twice
    assert received[0] != received[1]
    assert "line 0 of" in received[0]
    assert "line 249 of" in received[1]
    assert [c.status for c in fake.of("sendMessage")] == [200, 429, 200]


@pytest.mark.parametrize("shared", [False, True])
async def test_an_outbox_row_failing_on_its_third_message_retries_the_third_only(
    app: App, clock: FrozenClock, shared: bool
) -> None:
    real_time(clock)
    now = clock.now()
    reply = Reply(text=LONG, attachment=Attachment("qr.png", PNG, "image/png"))
    async with app.uow() as uow:
        payload = replies_to_payload([reply, Reply("ok")])
        await uow.outbox.enqueue("partly:1", "telegram", str(CHAT), payload, now)
        await uow.commit()
    fake = FakeTelegramAPI(rate=30)
    fail_once_after(fake, 2, 502, "Bad Gateway")
    async with serving_apart(fake) as (_, base), process(app, base, shared=shared):

        async def delivered() -> bool:
            return len(fake.sent(CHAT)) >= 4

        await until(delivered, 40, "the row's rest after its back-off")
        await until(lambda: _none_pending(app), 10, "the row recorded as sent")
    received = texts(fake)
    # photo, long text part 1, part 2, "ok": each once (before: the photo and part 1 twice)
    assert len(received) == 4, received
    assert received[0].startswith("photo:")
    assert received[-1] == "ok"
    assert len(set(received)) == 4
    async with app.uow() as uow:
        row = await uow.outbox.by_key("partly:1")
        assert row is not None
        assert row.status == "sent"


async def _none_pending(app: App) -> bool:
    async with app.uow() as uow:
        return not await uow.outbox.has_urgent("telegram", str(CHAT)) and (
            await uow.outbox.pending_count() == 0
        )
