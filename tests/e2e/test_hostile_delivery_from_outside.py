"""Delivery under hostile platform answers, through the real adapters and the fake APIs on
127.0.0.1: a Telegram 429 that names no ``retry_after``, repeated 429s on one reply, and a LINE
answer lost after LINE accepted the request (the connection reset on the way back)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web
from sqlalchemy import select

from bot.bootstrap import App
from bot.channels.line import LineChannel
from bot.core.clock import FrozenClock
from bot.core.messages import Channel
from jobs.dispatcher import OutboxDispatcher
from jobs.outcome_writer import backoff
from simulator.fakes.line_api import FakeLineApi
from simulator.fakes.line_webhooks import line_settings, signed_webhook, text_event
from simulator.fakes.telegram_api import FakeTelegramAPI, serving
from storage.models import OutboxMessage
from storage.raw_session import session_of
from tests.e2e.broadcast_support import add_campaign, queue_promotions, statuses, until_drained
from tests.e2e.reply_support import process, real_time, until
from tests.e2e.test_broadcast_line import line_dispatcher, recipients, users
from tests.e2e.test_broadcast_telegram import sending
from tests.unit.staff_support import make_member

MEMBER = 830001
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def _reply_rows(app: App) -> list[OutboxMessage]:
    async with app.uow() as uow:
        query = select(OutboxMessage).where(OutboxMessage.dedupe_key.like("reply:%"))
        return list((await session_of(uow).scalars(query.order_by(OutboxMessage.id))).all())


async def test_a_429_without_retry_after_on_a_reply_is_retried_not_dropped(
    app: App, clock: FrozenClock
) -> None:
    # a 429 is "too many requests, try later" whatever its body says (a proxy in front of the
    # Bot API, or the API itself under load); the README promises back-off when no
    # retry_after is given and that direct replies are never dropped
    real_time(clock)
    await make_member(app, user_id=str(MEMBER))
    fake = FakeTelegramAPI()
    fake.fail(429, "Too Many Requests", chat_id=MEMBER, times=1)
    async with serving(fake) as (_, base), process(app, base) as shop:
        assert await shop.say(MEMBER, "/points") == 200

        async def settled() -> bool:
            rows = await _reply_rows(app)
            return bool(fake.sent(MEMBER)) or any(r.status == "failed" for r in rows)

        await until(settled, 30, "the reply's fate after a bare 429")
    assert len(fake.sent(MEMBER)) == 1
    assert [row.status for row in await _reply_rows(app)] == ["sent"]


async def test_three_429s_in_a_row_on_one_reply_deliver_it_once(
    app: App, clock: FrozenClock
) -> None:
    real_time(clock)
    await make_member(app, user_id=str(MEMBER))
    fake = FakeTelegramAPI()
    fake.fail(429, "Too Many Requests: retry after 1", chat_id=MEMBER, retry_after=1, times=3)
    async with serving(fake) as (_, base), process(app, base) as shop:
        assert await shop.say(MEMBER, "/points") == 200

        async def arrived() -> bool:
            return bool(fake.sent(MEMBER))

        await until(arrived, 60, "the reply after three 429s")
    refused = [c for c in fake.calls if c.chat_id == MEMBER and c.status == 429]
    assert len(refused) == 3
    [delivered] = fake.sent(MEMBER)
    assert all(delivered.text == r.text for r in refused)  # the same reply, not another
    assert [row.status for row in await _reply_rows(app)] == ["sent"]


class ResettingLineApi(FakeLineApi):
    """The fake LINE API whose next ``lost`` push or multicast requests are handled (LINE
    accepted them, or answered 409) and then have their connection cut before the answer
    goes back, as a reset on the way back does."""

    lost: int = 0
    #: the endpoints whose answers are lost
    cut_paths: tuple[str, ...] = ("/push", "/multicast")

    @property
    def app(self) -> web.Application:
        app = super().app

        @web.middleware
        async def cut(request: web.Request, handler: Handler) -> web.StreamResponse:
            response = await handler(request)
            if self.lost > 0 and request.path.endswith(self.cut_paths):
                self.lost -= 1
                assert request.transport is not None
                request.transport.close()
            return response

        app.middlewares.append(cut)
        return app


def resetting(count: int) -> ResettingLineApi:
    fake = ResettingLineApi()
    fake.lost = count
    return fake


async def test_a_multicast_accepted_but_unanswered_is_retried_with_its_key_and_sent_once(
    app: App, clock: FrozenClock
) -> None:
    clock.set(datetime.now(UTC) + timedelta(minutes=1))  # the queued rows are due
    fake = resetting(1)
    await queue_promotions(app, "line", users(3))
    async with line_dispatcher(app, fake, app.clock) as dispatcher:
        result = await dispatcher.drain_once()
    calls = fake.calls_to("multicast")
    assert [c.status for c in calls] == [200, 409]  # the retry was refused as a repeat
    assert calls[0].headers["X-Line-Retry-Key"] == calls[1].headers["X-Line-Retry-Key"]
    assert result.sent == 3
    assert recipients(fake) == Counter(users(3))
    assert await statuses(app) == {"sent": 3}


async def test_answers_lost_until_the_next_pass_still_deliver_the_multicast_once(
    app: App, clock: FrozenClock
) -> None:
    # the first request and both quick retries lose their answers: the row waits its back-off
    # and the next pass (as after a restart) repeats the same key
    clock.set(datetime.now(UTC) + timedelta(minutes=1))
    fake = resetting(3)
    await queue_promotions(app, "line", users(3))
    async with line_dispatcher(app, fake, app.clock) as dispatcher:
        first = await dispatcher.drain_once()
        clock.advance(backoff(1) + timedelta(seconds=1))
        second = await dispatcher.drain_once()
    calls = fake.calls_to("multicast")
    assert (first.retrying, second.sent) == (3, 3)
    assert [c.status for c in calls] == [200, 409, 409, 409]
    assert len({c.headers["X-Line-Retry-Key"] for c in calls}) == 1
    assert recipients(fake) == Counter(users(3))
    assert await statuses(app) == {"sent": 3}


async def test_a_deactivated_telegram_user_is_unreachable_once_and_the_rest_are_sent(
    app: App,
) -> None:
    fake = FakeTelegramAPI(rate=300)
    members = [str(840000 + n) for n in range(5)]
    fake.fail(403, "Forbidden: user is deactivated", chat_id=840002)
    campaign_id = await add_campaign(app)
    await queue_promotions(app, "telegram", members, campaign_id=campaign_id, members=True)
    async with sending(app, fake, rate=250):
        await until_drained(app, seconds=30)
    refused = [c for c in fake.calls if c.chat_id == 840002]
    assert len(refused) == 1  # no retry loop on a gone account
    assert await statuses(app) == {"sent": 4, "unreachable": 1}
    async with app.uow() as uow:
        identity = await uow.identities.get("telegram", "840002")
    assert identity is not None
    assert identity.reachable is False


async def test_chat_not_found_on_a_campaign_row_fails_once_without_a_retry_loop(
    app: App,
) -> None:
    fake = FakeTelegramAPI(rate=300)
    members = [str(850000 + n) for n in range(3)]
    fake.fail(400, "Bad Request: chat not found", chat_id=850001)
    campaign_id = await add_campaign(app)
    await queue_promotions(app, "telegram", members, campaign_id=campaign_id, members=True)
    async with sending(app, fake, rate=250):
        await until_drained(app, seconds=30)
    assert len([c for c in fake.calls if c.chat_id == 850001]) == 1
    assert await statuses(app) == {"sent": 2, "failed": 1}


async def say_then_dispatch(
    app: App,
    clock: FrozenClock,
    aiohttp_client: Any,
    fake: ResettingLineApi,
    user: str,
    at: datetime,
    then: Callable[[], None] | None = None,
) -> None:
    """``user`` says hello through a signed LINE webhook (an event of ``at``), then the
    dispatcher makes its next passes while anything queued is due; ``then`` changes the
    platform before one more pass two hours later."""
    async with fake.running():
        line = LineChannel(line_settings(app.settings, fake), app.bus, app.uow, app.clock)
        line.retry_delays = (0.0, 0.0)
        web_app = web.Application()
        line.register(web_app)
        client = await aiohttp_client(web_app)
        try:
            event = text_event(user, "สวัสดีค่ะ", fake.issue_reply_token(user), at)
            body, signature = signed_webhook([event])
            headers = {"Content-Type": "application/json", "X-Line-Signature": signature}
            async with client.post("/webhook/line", data=body, headers=headers) as response:
                assert response.status == 200
            dispatcher = OutboxDispatcher(app.uow, clock, {Channel.LINE: line})
            for _ in range(3):
                clock.advance(timedelta(minutes=15))
                await dispatcher.drain_once()
            if then is not None:
                then()
                clock.advance(timedelta(hours=2))
                await dispatcher.drain_once()
        finally:
            await line.close()


async def test_a_reply_accepted_by_line_but_unanswered_reaches_the_member_once(
    app: App, clock: FrozenClock, aiohttp_client: Any
) -> None:
    # the reply token has no retry key: LINE took the answer, the connection reset on the way
    # back. Pushing the same answer afterwards is the duplicate the retry keys exist to avoid
    fake = resetting(1)
    fake.cut_paths = ("/reply",)
    user = "U" + "c" * 32
    await say_then_dispatch(app, clock, aiohttp_client, fake, user, clock.now())
    [accepted] = [c for c in fake.calls_to("reply") if c.status == 200]
    assert fake.messages_to(user) == accepted.messages  # the answer, once


async def test_a_push_reply_accepted_but_unanswered_three_times_reaches_the_member_once(
    app: App, clock: FrozenClock, aiohttp_client: Any
) -> None:
    # the reply token is stale, so the answer is pushed; LINE accepts it and the answer, and
    # those of both quick retries (409s), are lost. The queued retry must repeat the same key
    fake = resetting(3)
    user = "U" + "d" * 32
    stale = clock.now() - timedelta(minutes=2)
    await say_then_dispatch(app, clock, aiohttp_client, fake, user, stale)
    pushes = fake.calls_to("push")
    assert pushes[0].status == 200
    assert fake.messages_to(user) == pushes[0].messages  # the answer, once


async def test_a_push_reply_refused_for_the_monthly_quota_waits_and_arrives_once(
    app: App, clock: FrozenClock, aiohttp_client: Any
) -> None:
    # a stale token, so the answer must be pushed, and the month's messages are used up
    fake = resetting(0)
    fake.quota_limit = 0
    user = "U" + "e" * 32
    stale = clock.now() - timedelta(minutes=2)
    before: list[int] = []

    def plan_upgraded() -> None:
        before.append(len(fake.messages_to(user)))
        fake.quota_limit = None

    await say_then_dispatch(app, clock, aiohttp_client, fake, user, stale, plan_upgraded)
    refused = [c for c in fake.calls_to("push") if c.status == 429]
    assert len(refused) == 2  # the direct push and one dispatcher pass: no hot retry loop
    assert before == [0]
    assert fake.messages_to(user) == refused[0].messages  # kept, then sent once
