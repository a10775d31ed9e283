"""A reply token's lost answer, and a direct reply's retry key once it is queued.

A reply takes no retry key; its token can be used once, so the same reply tried again at once
tells whether the first try was taken. A direct push's key is the one its queued row keeps.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.bootstrap import App
from bot.channels.line import LineChannel
from bot.core.errors import TransientChannelError
from bot.core.messages import Channel, Reply
from bot.core.ports import NextTurn
from simulator.fakes.line_api import INVALID_REPLY_TOKEN, FakeLineApi
from storage.models import OutboxMessage
from storage.raw_session import session_of

USER = "U" + "f" * 32
HELLO = [{"type": "text", "text": "สวัสดีค่ะ 🙏"}]


async def test_the_fake_refuses_a_used_reply_token_as_line_does(
    channel: LineChannel, fake: FakeLineApi
) -> None:
    token = fake.issue_reply_token(USER)
    assert await channel.sender.reply(token, HELLO) is True
    fake.fail("reply", 500, "Internal server error")  # the next try's answer is lost
    assert await channel.sender.reply(token, HELLO) is True  # the retry: already used
    statuses = [(c.status, c.json["replyToken"]) for c in fake.calls_to("reply")]
    assert statuses == [(200, token), (500, token), (400, token)]
    assert fake.messages_to(USER) == HELLO


async def test_a_5xx_on_a_reply_line_did_not_take_is_sent_again_with_the_same_token(
    channel: LineChannel, fake: FakeLineApi, app: App
) -> None:
    token = fake.issue_reply_token(USER)
    fake.fail("reply", 503, "")
    await channel.deliver(USER, [Reply("สวัสดีค่ะ 🙏")], token, app.clock.now())
    assert [c.status for c in fake.calls] == [503, 200]
    assert fake.calls_to("push") == []
    assert fake.messages_to(USER) == HELLO


async def test_a_first_try_refused_for_its_token_leaves_the_reply_to_a_push(
    channel: LineChannel, fake: FakeLineApi
) -> None:
    # only a later try's refusal means "taken by the earlier one"; a first one means the
    # token cannot carry this reply
    fake.fail("reply", 400, INVALID_REPLY_TOKEN)
    assert await channel.sender.reply(fake.issue_reply_token(USER), HELLO) is False


async def test_no_second_try_once_the_token_may_have_expired(
    channel: LineChannel, fake: FakeLineApi
) -> None:
    # "invalid" could then mean used or expired: raised, so the reply is queued and pushed
    token = fake.issue_reply_token(USER)
    fake.fail("reply", 500, "Internal server error")
    with pytest.raises(TransientChannelError):
        await channel.sender.reply(token, HELLO, lambda: False)
    assert len(fake.calls_to("reply")) == 1


async def test_every_try_unanswered_is_raised_for_the_queue(
    channel: LineChannel, fake: FakeLineApi
) -> None:
    token = fake.issue_reply_token(USER)
    fake.fail("reply", 500, "Internal server error", times=3)
    with pytest.raises(TransientChannelError):
        await channel.sender.reply(token, HELLO)
    assert len(fake.calls_to("reply")) == 3


async def test_a_queued_direct_reply_keeps_the_retry_key_its_push_was_made_with(
    channel: LineChannel, fake: FakeLineApi, app: App
) -> None:
    fake.fail_server_error("push", times=3)  # the push and both quick retries
    key = str(uuid.uuid4())
    stale = app.clock.now() - timedelta(minutes=2)

    async def send(unit: Sequence[Reply], _turn: NextTurn) -> None:
        await channel.deliver(USER, unit, "stale-token", stale, key)

    outcome = await channel.replies.deliver(
        Channel.LINE, USER, [[Reply("สวัสดีค่ะ 🙏")]], send, retry_key=key
    )
    async with app.uow() as uow:
        [row] = (await session_of(uow).scalars(select(OutboxMessage))).all()
    pushed = {c.headers["X-Line-Retry-Key"] for c in fake.calls_to("push")}
    assert outcome == "queued"
    assert row.retry_key == key
    await channel.push(USER, [Reply("สวัสดีค่ะ 🙏")], row.retry_key)  # as the dispatcher does
    assert {c.headers["X-Line-Retry-Key"] for c in fake.calls_to("push")} == pushed


async def test_a_retry_key_goes_with_one_unit(channel: LineChannel, app: App) -> None:
    async def send(_unit: Sequence[Reply], _turn: NextTurn) -> None:
        raise AssertionError("nothing is sent")

    two = [[Reply("a")], [Reply("b")]]
    with pytest.raises(ValueError, match="one unit"):
        await channel.replies.deliver(Channel.LINE, USER, two, send, retry_key=str(uuid.uuid4()))
