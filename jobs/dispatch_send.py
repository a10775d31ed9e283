"""One outbox request in the form the channel's capabilities allow (see ``jobs.dispatcher``)."""

from __future__ import annotations

from typing import cast

from bot.core.capabilities import ChannelCapabilities
from bot.core.messages import Reply
from bot.core.ports import Outbound, PacedOutbound
from jobs.delivery_plan import Delivery
from jobs.dispatch_types import (
    KeyedOutbound,
    MulticastOutbound,
    ReplyingOutbound,
    reply_token_of,
)
from jobs.ratelimit import SendLimiter, next_turn


async def send(
    adapter: Outbound,
    caps: ChannelCapabilities,
    delivery: Delivery,
    replies: list[Reply],
    limiter: SendLimiter,
) -> None:
    """One request, in the form the channel's capabilities allow: a multicast, a push with
    the row's retry key (a re-send after a crash is then a no-op), a staff answer spending
    the customer's reply token first, or a plain push.

    The first platform message's turn was waited for (:meth:`Delivery.wait_turn`). On a
    channel budgeted per message, an adapter that paces its own messages waits for each
    further one's turn right before it; one that sends them back to back gets their turns
    before it starts."""
    if delivery.multicast:
        users = [row.user_id for row in delivery.rows]
        assert delivery.retry_key is not None
        await cast(MulticastOutbound, adapter).multicast(users, replies, delivery.retry_key)
        return
    retry_key = delivery.retry_key if caps.retry_keys else None
    token = reply_token_of(delivery.rows[0].payload) if caps.reply_tokens else None
    if token is not None:  # a staff answer: the customer's reply token first
        await cast(ReplyingOutbound, adapter).push(
            delivery.chat,
            replies,
            retry_key=retry_key,
            reply_token=token[0],
            reply_token_at=token[1],
        )
    elif caps.retry_keys:
        await cast(KeyedOutbound, adapter).push(delivery.chat, replies, retry_key=retry_key)
    elif caps.rates.per_message and isinstance(adapter, PacedOutbound):
        turn = next_turn(
            limiter, delivery.channel, delivery.kind, delivery.chat, urgent=delivery.urgent
        )
        await adapter.push_paced(delivery.chat, replies, turn)
    else:
        if caps.rates.per_message and delivery.messages > 1:
            await limiter.before_send(
                delivery.channel,
                delivery.kind,
                delivery.chat,
                delivery.messages - 1,
                urgent=delivery.urgent,
            )
        await adapter.push(delivery.chat, replies)
