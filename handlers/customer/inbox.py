"""What is left after routing: free text to the shop's inbox, strangers, unfollows."""

from __future__ import annotations

from bot.core.messages import InboundKind, Reply
from handlers.context import Context
from handlers.customer.common import join_button
from handlers.inbox.threads import receive_text


async def to_inbox(ctx: Context) -> list[Reply]:
    """Text outside any conversation is a message to the shop: it goes into the sender's open
    thread and reaches the staff on duty (``handlers.inbox.threads.receive_text``).

    A contact card shared outside a flow is not stored (nobody asked for a phone number), and
    other empty events get no answer. Staff who are not members are told their text went
    nowhere, with how commands are typed.
    """
    inbound = ctx.inbound
    if inbound.kind is InboundKind.CONTACT:
        return [ctx.reply("inbox.contact_ignored")]
    if inbound.kind is not InboundKind.TEXT or not inbound.text.strip():
        return []
    if ctx.staff_view is not None and ctx.member_view is None:
        # a staff account that is no member: its stray text is a command typed without its
        # slash or a step's answer sent after the step ended (a sale that was not recorded),
        # not a customer's message: opening a thread would alert the whole team with it
        return [ctx.reply("inbox.staff_text")]
    return await receive_text(ctx)


async def members_only(ctx: Context) -> list[Reply]:
    """A member command from someone who has not joined: a short nudge and a join button."""
    return [ctx.reply("inbox.members_only", join_button(ctx))]


async def on_unfollow(ctx: Context) -> list[Reply]:
    """Blocked the bot: nothing can be sent (the bus has marked the identity unreachable)."""
    return []
