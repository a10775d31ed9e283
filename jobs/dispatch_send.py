"""One outbox request in the form the channel's capabilities allow (see ``jobs.dispatcher``)."""

from __future__ import annotations

from typing import cast

from bot.core.capabilities import ChannelCapabilities
from bot.core.messages import Reply
from bot.core.ports import Outbound
from jobs.delivery_plan import Delivery
from jobs.dispatch_types import (
    KeyedOutbound,
    MulticastOutbound,
    ReplyingOutbound,
    reply_token_of,
)


async def send(
    adapter: Outbound, caps: ChannelCapabilities, delivery: Delivery, replies: list[Reply]
) -> None:
    """One request, in the form the channel's capabilities allow: a multicast, a push with
    the row's retry key (a re-send after a crash is then a no-op), a staff answer spending
    the customer's reply token first, or a plain push."""
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
    else:
        await adapter.push(delivery.chat, replies)
