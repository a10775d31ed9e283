"""A LINE call of more than five messages that fails after some went out is resumed after
them. The reply token is single-use and a push without the caller's key has a key of its own:
before, the retry of the whole call (the reply courier's queued row, the dispatcher's retry of
a staff answer) sent the first five messages again."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from bot.bootstrap import App
from bot.channels.line import LineChannel
from bot.core.clock import FrozenClock
from bot.core.errors import RateLimited
from bot.core.messages import Channel, Reply
from bot.core.wire import replies_to_payload
from jobs.dispatcher import OutboxDispatcher
from simulator.fakes.line_api import Call, FakeLineApi

USER = "U4af4980630"


def texts(n: int) -> list[Reply]:
    return [Reply(text=f"ข้อความ {i} 🧋") for i in range(n)]


def received(fake: FakeLineApi) -> list[str]:
    return [m["text"] for m in fake.messages_to(USER)]


async def test_a_push_refused_after_the_reply_token_was_spent_leaves_only_the_rest(
    channel: LineChannel, fake: FakeLineApi, app: App
) -> None:
    token = fake.issue_reply_token(USER)
    fake.fail_rate_limit("push")
    with pytest.raises(RateLimited) as raised:
        await channel.deliver(USER, texts(12), token, app.clock.now())
    rest = raised.value.rest
    assert rest is not None
    assert len(rest) == 12  # the replies, marked with the five that went out
    await channel.push(USER, rest, retry_key=str(uuid.uuid4()))  # the queued row, later
    assert received(fake) == [f"ข้อความ {i} 🧋" for i in range(12)]  # before: 0-4 twice


async def test_a_staff_answer_retried_by_the_dispatcher_keeps_its_pushes_keys(
    channel: LineChannel, fake: FakeLineApi, app: App
) -> None:
    # the row's retry key: the rest's pushes take the keys of their place in the whole call,
    # so a push LINE accepted before the failure is answered 409 when sent again
    key = str(uuid.uuid4())
    token = fake.issue_reply_token(USER)
    accepted_then_refused = [("reply", 200), ("push", 200), ("push", 429)]

    async def refuse_the_next_push(call: Call) -> None:
        if call.endpoint == "push":
            fake.fail_rate_limit("push")
            fake.after_accept = None

    fake.after_accept = refuse_the_next_push
    with pytest.raises(RateLimited) as raised:
        await channel.push(USER, texts(20), key, reply_token=token, reply_token_at=app.clock.now())
    assert [(c.endpoint, c.status) for c in fake.calls] == accepted_then_refused
    rest = raised.value.rest
    assert rest is not None
    await channel.push(USER, rest, key, reply_token=token, reply_token_at=app.clock.now())
    assert received(fake) == [f"ข้อความ {i} 🧋" for i in range(20)]


async def test_a_failure_before_anything_went_out_leaves_the_whole_call(
    channel: LineChannel, fake: FakeLineApi, app: App
) -> None:
    fake.fail_rate_limit("push")
    with pytest.raises(RateLimited) as raised:
        await channel.deliver(USER, texts(7), None, app.clock.now() - timedelta(seconds=90))
    assert raised.value.rest is None


async def test_a_reply_queued_after_part_of_it_went_out_reaches_the_person_once(
    channel: LineChannel, fake: FakeLineApi, app: App, clock: FrozenClock
) -> None:
    # the whole path: the reply courier queues what a 429 kept back, the dispatcher sends it
    token = fake.issue_reply_token(USER)
    fake.fail_rate_limit("push")
    outcome = await channel.replies.deliver(
        Channel.LINE,
        USER,
        [texts(7)],
        lambda unit, _turn: channel.deliver(USER, unit, token, app.clock.now()),
    )
    assert outcome == "queued"
    clock.advance(timedelta(seconds=2))  # past the 429's retry-after
    await OutboxDispatcher(app.uow, app.clock, {Channel.LINE: channel}).drain_once()
    assert received(fake) == [f"ข้อความ {i} 🧋" for i in range(7)]  # before: 0-4 twice


async def test_a_staff_answer_stopped_by_the_quota_midway_is_resumed_after_what_went_out(
    channel: LineChannel, fake: FakeLineApi, app: App, clock: FrozenClock
) -> None:
    # an outbox row that spends the customer's reply token first (a staff answer): the retry
    # of the whole row found the token spent and pushed its first five messages again
    token = fake.issue_reply_token(USER)
    payload = {
        **replies_to_payload(texts(12)),
        "reply_token": token,
        "reply_token_at": clock.now().isoformat(),
    }
    async with app.uow() as uow:
        await uow.outbox.enqueue("answer:1", "line", USER, payload, clock.now())
        await uow.commit()

    async def quota_used_up_after_one_push(call: Call) -> None:
        if call.endpoint == "push":
            fake.fail_monthly_limit("push")
            fake.after_accept = None

    fake.after_accept = quota_used_up_after_one_push
    await OutboxDispatcher(app.uow, clock, {Channel.LINE: channel}).drain_once()
    assert len(received(fake)) == 10  # the reply token's five, one push of five
    clock.advance(timedelta(hours=2))  # a new month, or a bigger plan
    await OutboxDispatcher(app.uow, clock, {Channel.LINE: channel}).drain_once()
    assert received(fake) == [f"ข้อความ {i} 🧋" for i in range(12)]  # before: 0-4 twice
    async with app.uow() as uow:
        row = await uow.outbox.by_key("answer:1")
        assert row is not None
        assert row.status == "sent"
