"""A reply held on the way to Telegram keeps the chat's next reply a second behind its
*arrival*. The platform counts a chat's messages as they arrive: before, the next reply left a
second after the held one *left* and reached the fake 0.4 s after it, which answered 429 (and
the whole bot paused). Now its slow answer dates its arrival and the next one waits for a
second after that. SQLite and PostgreSQL, with the in-process and the shared limiter."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from bot.bootstrap import App
from bot.core.clock import FrozenClock
from shop.coupons import display_code
from simulator.fakes.telegram_api import Call, FakeTelegramAPI, serving
from tests.e2e.reply_support import process, real_time, texts, until
from tests.unit.rewards_support import make_coupon
from tests.unit.staff_support import make_member, make_staff

HELD, OTHER = 810001, 810002
#: how long the fake holds the first reply to ``HELD`` before it counts it (a stall on the way)
STALL = 0.6


@pytest.mark.parametrize("shared", [False, True])
async def test_a_reply_held_on_the_way_keeps_the_chats_next_reply_a_second_behind_it(
    app: App, clock: FrozenClock, shared: bool
) -> None:
    real_time(clock)
    for cashier in (HELD, OTHER):
        await make_staff(app, str(cashier), "cashier", branch_code="asoke")
        async with app.uow() as uow:
            await uow.identities.touch("telegram", str(cashier), clock.now())
            await uow.commit()
    member = await make_member(app, user_id="820001")
    command = f"/redeem {display_code((await make_coupon(app, member.id)).code)}"
    fake = FakeTelegramAPI(rate=30)
    held: list[Call] = []

    async def hold_the_first(call: Call) -> None:
        if call.chat_id == HELD and not held:
            held.append(call)
            await asyncio.sleep(STALL)

    async with serving(fake) as (_, base), process(app, base, shared=shared) as shop:
        assert await shop.say(OTHER, command) == 200  # the adapter learns the quick round trip

        async def answered(chat: int, count: int) -> bool:
            return len(texts(fake, chat)) >= count

        await until(lambda: answered(OTHER, 1), 30, "the first reply")
        fake.before_send = hold_the_first
        assert await asyncio.gather(shop.say(HELD, command), shop.say(HELD, command)) == [
            200,
            200,
        ]
        await until(lambda: answered(HELD, 2), 30, "both replies")
    assert len(held) == 1
    assert fake.rates.refused == 0  # before: the second arrived 0.4 s after the held one
    # a call's ``at`` is when it reached the fake: the held one counted a stall later
    counted = [call.at + (STALL if call is held[0] else 0.0) for call in fake.sent(HELD)]
    assert all(later - earlier >= 0.95 for earlier, later in itertools.pairwise(counted))
