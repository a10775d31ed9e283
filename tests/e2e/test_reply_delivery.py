"""A reply is never dropped (issue 15, item 10): direct replies draw from the same per-bot and
per-chat budgets as the outbox, wait out a 429, are queued rather than lost, go before a
broadcast, and a reply that can never arrive is on record. SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections import Counter

from sqlalchemy import func, select

from bot.bootstrap import App
from bot.core.clock import FrozenClock
from shop.coupons import display_code
from simulator.fakes.telegram_api import FakeTelegramAPI, serving
from storage.models import Member, OutboxMessage, PointsEntry, Sale
from storage.raw_session import session_of
from tests.e2e.broadcast_support import queue_promotions, statuses
from tests.e2e.reply_support import process, real_time, texts, until
from tests.unit.rewards_support import coupon_rows, make_coupon
from tests.unit.staff_support import make_member, make_staff

CASHIERS = (810001, 810002)
MEMBER = 820001
USED, ALREADY = "✅", "ถูกใช้ไปแล้ว"


async def _ledger_invariants_hold(app: App) -> None:
    """Every balance is the sum of its ledger, none is negative, no receipt is recorded twice."""
    async with app.uow() as uow:
        session = session_of(uow)
        sums = dict(
            (
                await session.execute(
                    select(PointsEntry.member_id, func.sum(PointsEntry.delta)).group_by(
                        PointsEntry.member_id
                    )
                )
            ).all()
        )
        balances = dict((await session.execute(select(Member.id, Member.points_balance))).all())
        receipts = (await session.execute(select(Sale.receipt_no))).scalars().all()
    assert all(balances[m] == sums.get(m, 0) for m in balances)
    assert all(b >= 0 for b in balances.values())
    assert len(receipts) == len(set(receipts))


async def _reply_rows(app: App) -> list[OutboxMessage]:
    async with app.uow() as uow:
        query = select(OutboxMessage).where(OutboxMessage.dedupe_key.like("reply:%"))
        return list((await session_of(uow).scalars(query.order_by(OutboxMessage.id))).all())


async def test_thirty_concurrent_redeems_by_two_cashiers_all_get_their_reply_within_limits(
    app: App, clock: FrozenClock
) -> None:
    real_time(clock)
    for cashier in CASHIERS:
        await make_staff(app, str(cashier), "cashier", branch_code="asoke")
        async with app.uow() as uow:  # they used the bot before: no first-arrival race
            await uow.identities.touch("telegram", str(cashier), clock.now())
            await uow.commit()
    member = await make_member(app, user_id=str(MEMBER), points=50)
    coupon = await make_coupon(app, member.id)
    fake = FakeTelegramAPI(rate=30)
    async with serving(fake) as (_, base), process(app, base) as shop:
        command = f"/redeem {display_code(coupon.code)}"
        statuses_ = await asyncio.gather(*(shop.say(CASHIERS[n % 2], command) for n in range(30)))
        assert statuses_ == [200] * 30

        async def all_answered() -> bool:
            return sum(len(fake.sent(c)) for c in CASHIERS) >= 30

        await until(all_answered, 90, "30 replies")
    answers = [text for cashier in CASHIERS for text in texts(fake, cashier)]
    assert len(answers) == 30
    assert sum(USED in text for text in answers) == 1
    assert sum(ALREADY in text for text in answers) == 29
    assert Counter(len(texts(fake, c)) for c in CASHIERS) == Counter({15: 2})
    assert fake.rates.refused == 0  # never two to one chat within a second, never over 30/s
    assert fake.rates.busiest_second <= 30
    assert [c.status for c in await coupon_rows(app)] == ["redeemed"]
    assert all(row.status == "sent" for row in await _reply_rows(app))
    await _ledger_invariants_hold(app)


async def test_a_button_press_during_a_broadcast_is_answered_before_the_broadcast_ends(
    app: App, clock: FrozenClock
) -> None:
    real_time(clock)
    await make_member(app, user_id=str(MEMBER))
    fake = FakeTelegramAPI(rate=30)
    audience = [str(900_000 + n) for n in range(240)]
    await queue_promotions(app, "telegram", audience)
    async with serving(fake) as (_, base), process(app, base) as shop:

        async def broadcasting() -> bool:
            return len(fake.sent()) >= 40

        await until(broadcasting, 30, "the broadcast under way")
        assert await shop.press(MEMBER, "cmd:points") == 200

        async def answered() -> bool:
            return bool(fake.sent(MEMBER))

        await until(answered, 30, "the reply")
        pressed_at = len(fake.sent())

        async def drained() -> bool:
            return await statuses(app) == {"sent": len(audience)}

        await until(drained, 60, "the broadcast sent")
    sent = fake.sent()
    reply = next(i for i, call in enumerate(sent) if call.chat_id == MEMBER)
    assert reply < len(sent) - 100  # it did not wait for the broadcast (240 rows) to end
    assert pressed_at < len(sent)
    assert fake.rates.refused == 0
    assert fake.rates.busiest_second <= 30


async def test_a_429_on_a_reply_is_waited_out_and_the_reply_arrives(
    app: App, clock: FrozenClock
) -> None:
    real_time(clock)
    await make_member(app, user_id=str(MEMBER))
    fake = FakeTelegramAPI(rate=30)
    fake.fail(429, "Too Many Requests: retry after 2", chat_id=MEMBER, retry_after=2, times=1)
    async with serving(fake) as (_, base), process(app, base) as shop:
        assert await shop.say(MEMBER, "/points") == 200

        async def arrived() -> bool:
            return bool(fake.sent(MEMBER))

        await until(arrived, 30, "the reply after the 429")
    refused = [c for c in fake.calls if c.chat_id == MEMBER and c.status == 429]
    [delivered] = fake.sent(MEMBER)
    assert len(refused) == 1
    assert delivered.at - refused[0].at >= 2.0
    assert delivered.text == refused[0].text
    assert [row.status for row in await _reply_rows(app)] == ["sent"]


async def test_a_reply_refused_for_good_is_recorded_as_failed(app: App, clock: FrozenClock) -> None:
    real_time(clock)
    member = await make_member(app, user_id=str(MEMBER))
    fake = FakeTelegramAPI()
    fake.fail(400, "Bad Request: chat not found", chat_id=MEMBER)
    async with serving(fake) as (_, base), process(app, base) as shop:
        assert await shop.say(MEMBER, "/points") == 200
    [row] = await _reply_rows(app)
    assert row.status == "failed"
    assert "chat not found" in (row.error or "")
    assert row.member_id == member.id  # erasure finds it
    assert row.payload["replies"]  # what was to be said is kept for staff to see


async def test_a_network_error_on_a_reply_is_retried_by_the_dispatcher(
    app: App, clock: FrozenClock
) -> None:
    real_time(clock)
    await make_member(app, user_id=str(MEMBER))
    fake = FakeTelegramAPI()
    fake.fail(502, "Bad Gateway", chat_id=MEMBER, times=1)
    async with serving(fake) as (_, base), process(app, base) as shop:
        assert await shop.say(MEMBER, "/points") == 200

        async def arrived() -> bool:
            return bool(fake.sent(MEMBER))

        await until(arrived, 30, "the reply after the 502")
    assert [row.status for row in await _reply_rows(app)] == ["sent"]
