"""A reply or an outbox row that becomes several Telegram messages (a photo then the rest of a
long text, a text too long for one message) reaches its chat one message a second, as single
messages do. Telegram counts a chat's messages as they arrive: before, such a unit took all its
turns first and then sent its messages back to back, the fake answered the second one 429, and
the whole bot paused. Now the sender asks the limiter before each message. SQLite and
PostgreSQL, with the in-process and the shared limiter."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from bot.bootstrap import App
from bot.core.clock import FrozenClock
from bot.core.messages import Attachment, Channel, Identity, Reply
from bot.core.wire import replies_to_payload
from simulator.fakes.apart import serving_apart
from simulator.fakes.telegram_api import FakeTelegramAPI
from tests.e2e.reply_support import process, real_time, until

CHATS = [840_001, 840_002, 840_003]
#: more than one message holds (4096), and more than a caption holds (1024)
LONG = "\n".join(f"line {n} of a long answer" for n in range(250))
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


def two_messages() -> Reply:
    return Reply(text=LONG)


def three_messages() -> Reply:
    return Reply(text=LONG, attachment=Attachment("qr.png", PNG, "image/png"))


def spaced(fake: FakeTelegramAPI, chat: int) -> bool:
    """Every message to ``chat`` reached the fake a second (less its jitter) after the one
    before."""
    arrivals = [call.at for call in fake.sent(chat)]
    return all(later - earlier >= 0.95 for earlier, later in itertools.pairwise(arrivals))


def timeline(fake: FakeTelegramAPI) -> dict[int, list[tuple[str, float, int]]]:
    """Every send to each chat as the fake saw it: method, arrival (from the first), status."""
    start = min((call.at for call in fake.calls), default=0.0)
    return {
        chat: [
            (c.method, round(c.at - start, 3), c.status) for c in fake.calls if c.chat_id == chat
        ]
        for chat in CHATS
    }


@pytest.mark.parametrize("shared", [False, True])
async def test_replies_of_several_messages_reach_each_chat_a_second_apart(
    app: App, clock: FrozenClock, shared: bool
) -> None:
    real_time(clock)
    fake = FakeTelegramAPI(rate=30)
    async with serving_apart(fake) as (_, base), process(app, base, shared=shared) as shop:
        units = [
            shop.channel.deliver(Identity(Channel.TELEGRAM, str(chat)), [reply])
            for chat in CHATS
            for reply in (two_messages(), three_messages())
        ]
        await asyncio.gather(*units)

        async def delivered() -> bool:
            return all(len(fake.sent(chat)) >= 5 for chat in CHATS)

        await until(delivered, 60, "every reply, some queued")
    assert fake.rates.refused == 0, timeline(fake)  # before: a unit's second message got 429
    assert all(spaced(fake, chat) for chat in CHATS)


@pytest.mark.parametrize("shared", [False, True])
async def test_outbox_rows_of_several_messages_reach_each_chat_a_second_apart(
    app: App, clock: FrozenClock, shared: bool
) -> None:
    real_time(clock)
    now = clock.now()
    async with app.uow() as uow:
        for chat in CHATS:
            for n, replies in enumerate(([three_messages()], [two_messages(), Reply("ok")])):
                payload = replies_to_payload(replies)
                await uow.outbox.enqueue(f"multi:{chat}:{n}", "telegram", str(chat), payload, now)
        await uow.commit()
    fake = FakeTelegramAPI(rate=30)
    async with serving_apart(fake) as (_, base), process(app, base, shared=shared):

        async def delivered() -> bool:
            return all(len(fake.sent(chat)) >= 6 for chat in CHATS)

        await until(delivered, 60, "every row sent")
    assert fake.rates.refused == 0, timeline(fake)  # before: a row's second message got 429
    assert all(spaced(fake, chat) for chat in CHATS)
