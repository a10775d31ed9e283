"""The dispatcher decides by what a channel declares it can do, never by the channel's name:
a channel declaring multicast is batched in chunks of its size, one declaring none is pushed
row by row; retry keys and reply tokens go only to channels that declare them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta

from bot.bootstrap import App
from bot.core.capabilities import LINE_CAPABILITIES, TELEGRAM_CAPABILITIES, ChannelCapabilities
from bot.core.messages import Channel, Reply
from bot.core.wire import replies_to_payload
from jobs.delivery_plan import plan
from jobs.dispatcher import OutboxDispatcher
from storage.repositories.outbox import QueuedMessage
from tests.unit.dispatcher_support import FakeLine, FakeTelegram


@dataclass
class Declaring:
    """An adapter that takes every keyword the dispatcher could pass and records what came."""

    channel: Channel
    capabilities: ChannelCapabilities
    pushes: list[tuple[str, dict[str, object]]] = field(default_factory=list)
    multicasts: list[tuple[list[str], str]] = field(default_factory=list)

    async def push(self, user_id: str, replies: Sequence[Reply], **keys: object) -> None:
        self.pushes.append((user_id, keys))

    async def multicast(self, user_ids: Sequence[str], replies: Sequence[Reply], key: str) -> None:
        self.multicasts.append((list(user_ids), key))


async def _queue_promotion(app: App, channel: Channel, users: int) -> None:
    async with app.uow() as uow:
        payload = replies_to_payload([Reply(text="20% off this week")])
        for user in range(users):
            key = f"cmp:1:{user}"
            now = app.clock.now()
            await uow.outbox.enqueue(key, channel.value, f"U{user}", payload, now, promotional=True)
        await uow.commit()


async def _queue_answer(app: App, channel: Channel, token: str) -> None:
    async with app.uow() as uow:
        payload = replies_to_payload([Reply(text="we open at 9")])
        payload["reply_token"] = token
        payload["reply_token_at"] = app.clock.now().isoformat()
        await uow.outbox.enqueue("inbox:1:r1", channel.value, "U1", payload, app.clock.now())
        await uow.commit()


async def test_a_channel_that_declares_multicast_is_batched_in_chunks_of_its_size(
    app: App,
) -> None:
    # Telegram by name, but declaring a multicast of 3: the declaration decides
    caps = replace(TELEGRAM_CAPABILITIES, multicast_max=3)
    adapter = Declaring(Channel.TELEGRAM, caps)
    await _queue_promotion(app, Channel.TELEGRAM, 5)
    result = await OutboxDispatcher(app.uow, app.clock, {adapter.channel: adapter}).drain_once()
    assert result.sent == 5
    assert [users for users, _ in adapter.multicasts] == [["U0", "U1", "U2"], ["U3", "U4"]]
    assert adapter.pushes == []


async def test_a_channel_that_declares_no_multicast_is_pushed_row_by_row(app: App) -> None:
    # LINE by name, but declaring no multicast: every row is its own push
    caps = replace(LINE_CAPABILITIES, multicast_max=1)
    adapter = Declaring(Channel.LINE, caps)
    await _queue_promotion(app, Channel.LINE, 3)
    result = await OutboxDispatcher(app.uow, app.clock, {adapter.channel: adapter}).drain_once()
    assert result.sent == 3
    assert adapter.multicasts == []
    assert [user for user, _ in adapter.pushes] == ["U0", "U1", "U2"]


async def test_retry_keys_go_to_a_channel_that_declares_them(app: App) -> None:
    keyed = Declaring(Channel.TELEGRAM, replace(TELEGRAM_CAPABILITIES, retry_keys=True))
    await _queue_promotion(app, Channel.TELEGRAM, 1)
    await OutboxDispatcher(app.uow, app.clock, {keyed.channel: keyed}).drain_once()
    [(_, keys)] = keyed.pushes
    async with app.uow() as uow:
        row = await uow.outbox.by_key("cmp:1:0")
    assert row is not None
    assert keys == {"retry_key": row.retry_key}


async def test_a_channel_without_retry_keys_gets_a_plain_push(app: App) -> None:
    plain = Declaring(Channel.LINE, replace(LINE_CAPABILITIES, retry_keys=False, multicast_max=1))
    await _queue_promotion(app, Channel.LINE, 1)
    await OutboxDispatcher(app.uow, app.clock, {plain.channel: plain}).drain_once()
    assert plain.pushes == [("U0", {})]


async def test_a_reply_token_is_spent_only_by_a_channel_that_declares_reply_tokens(
    app: App,
) -> None:
    replying = Declaring(
        Channel.TELEGRAM,
        replace(TELEGRAM_CAPABILITIES, reply_token_lifetime=timedelta(minutes=1)),
    )
    await _queue_answer(app, Channel.TELEGRAM, "token-1")
    await OutboxDispatcher(app.uow, app.clock, {replying.channel: replying}).drain_once()
    [(_, keys)] = replying.pushes
    assert keys == {
        "retry_key": None,
        "reply_token": "token-1",
        "reply_token_at": app.clock.now(),
    }


async def test_a_channel_without_reply_tokens_ignores_one_in_the_payload(app: App) -> None:
    tokenless = Declaring(Channel.LINE, replace(LINE_CAPABILITIES, reply_token_lifetime=None))
    await _queue_answer(app, Channel.LINE, "token-1")
    await OutboxDispatcher(app.uow, app.clock, {tokenless.channel: tokenless}).drain_once()
    [(_, keys)] = tokenless.pushes
    assert set(keys) == {"retry_key"}


def _row(row_id: int, channel: Channel) -> QueuedMessage:
    payload = replies_to_payload([Reply(text="same")])
    return QueuedMessage(
        id=row_id,
        channel=channel.value,
        user_id=f"U{row_id}",
        member_id=None,
        payload=payload,
        attempts=0,
        retry_key=f"k{row_id}",
        promotional=True,
    )


def test_the_plan_pushes_rows_of_a_channel_it_has_no_capabilities_for() -> None:
    rows = [_row(1, Channel.LINE), _row(2, Channel.LINE)]
    lanes = plan(rows, {})
    assert [[d.multicast for d in lane] for lane in lanes] == [[False], [False]]
    multicast = plan(rows, {Channel.LINE: LINE_CAPABILITIES})
    assert [[d.multicast for d in lane] for lane in multicast] == [[True]]


def test_the_dispatcher_test_fakes_declare_their_platform() -> None:
    assert FakeTelegram().capabilities is TELEGRAM_CAPABILITIES
    # FakeLine has no multicast method, so it must not declare one
    assert FakeLine().capabilities == replace(LINE_CAPABILITIES, multicast_max=1)
