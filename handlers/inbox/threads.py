"""Customer messages into threads, and the staff alert that a thread needs an answer.

Alert policy (so a chatty customer does not page the shop once per line): staff are told when
a thread opens, and when the customer writes again after a staff answer; never more than once
per :data:`ALERT_EVERY` per thread. Alerts go to owners and managers of the customer's home
branch (with branch-less staff), or to all owners and managers when the branch is unknown.

The customer gets an acknowledgement only when a thread opens. On LINE that acknowledgement
spends the message's reply token; later messages are answered by nobody but staff, so their
token is kept on the message for the staff answer (free while fresh, see ``handlers.inbox.reply``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Final

from bot.core.graphemes import fit
from bot.core.messages import Reply
from bot.i18n import t
from handlers.context import Context
from handlers.notify import notify_staff
from handlers.router import action_button
from storage.models import InboxMessage, InboxThread
from storage.repositories.arrival import IdentityLike
from storage.repositories.inbox import AccountGone

ALERT_EVERY: Final = timedelta(minutes=10)
STAFF_ROLES: Final = frozenset({"owner", "manager"})
PREVIEW_CHARS: Final = 300
REPLY_ACTION: Final = "ibr"
CLOSE_ACTION: Final = "ibc"
#: reads of the open thread per text: a change seen at most once under the chat account's lock
#: (``storage/repositories/inbox_statements.py``), the third for safety
TRIES: Final = 3


def alert_key(thread_id: int) -> str:
    return f"inbox:{thread_id}:a"


@dataclass(frozen=True)
class Stored:
    """A customer's text stored: its thread, whether this text opened it, the message, and
    the direction of the thread's last message before it (None: the thread was empty)."""

    thread: InboxThread
    opened: bool
    message: InboxMessage
    last_direction: str | None


async def store_in_thread(
    ctx: Context, text: str, member_id: int | None, branch_id: int | None, token: str | None
) -> Stored | None:
    """``text`` from the author stored in their open thread, or in a new one (at
    ``branch_id``); ``token`` (LINE's reply token) kept on it unless the thread is new. None,
    nothing stored, when the author's chat account was erased while the text was on its way
    (PostgreSQL: the erasure committed while the text waited for the account's lock).

    Read, open and store are tried again when the thread they read changed meanwhile (on
    PostgreSQL, parallel transactions: a thread opened by the customer's previous text, or
    closed by staff): the text then joins that thread, or opens a new one; never a closed one.
    """
    identity = ctx.identity_view
    for _ in range(TRIES):
        try:
            found, last_direction = await ctx.uow.inbox.open_thread_and_last_direction(identity.id)
        except AccountGone:
            return None
        thread, opened = await _continue_or_open(ctx, found, identity, member_id, branch_id)
        if thread is None:
            continue
        kept = None if opened else token
        message = await ctx.uow.inbox.receive(
            thread, identity.id, text, ctx.now, kept, opened=opened
        )
        if message is not None:
            return Stored(thread, opened, message, last_direction)
    raise RuntimeError(f"no open inbox thread for identity {identity.id}")


async def _continue_or_open(
    ctx: Context,
    thread: InboxThread | None,
    identity: IdentityLike,
    member_id: int | None,
    branch_id: int | None,
) -> tuple[InboxThread | None, bool]:
    """``thread`` continued, or a new one opened (None when the identity has an open thread
    after all: opened by a parallel transaction since it was read, to be read again)."""
    if thread is not None:
        if thread.member_id is None and member_id is not None:
            thread.member_id = member_id
        return thread, False
    return await ctx.uow.inbox.open_thread(identity.id, member_id, branch_id, ctx.now), True


async def receive_text(ctx: Context) -> list[Reply]:
    """Free text outside any conversation: stored in the sender's open thread
    (:func:`store_in_thread`), staff alerted (see the module docstring), acknowledged when the
    thread is new."""
    member = ctx.member_view
    member_id = member.id if member is not None else None
    branch_id = member.home_branch_id if member is not None else None
    text, token = ctx.inbound.text.strip(), ctx.inbound.reply_token
    stored = await store_in_thread(ctx, text, member_id, branch_id, token)
    if stored is None:  # they erased themselves meanwhile: their text goes with the rest
        return []
    if stored.opened or stored.last_direction == "out":
        await alert_staff(ctx, stored.thread, stored.message, customer_name(ctx))
    return [ctx.reply("inbox.received")] if stored.opened else []


def customer_name(ctx: Context) -> str:
    member = ctx.member_view
    if member is not None and member.name:
        return member.name
    return ctx.identity_view.display_name or "?"


async def alert_staff(
    ctx: Context, thread: InboxThread, message: InboxMessage, name: str, *, force: bool = False
) -> int:
    """Tell the thread's staff about ``message`` with [reply] and [close] buttons; at most once
    per :data:`ALERT_EVERY` per thread unless ``force``. Returns how many were queued."""
    since = ctx.now - ALERT_EVERY
    if not force and await ctx.uow.inbox.alerts_since(alert_key(thread.id), since):
        return 0
    preview = fit(message.text, PREVIEW_CHARS)

    def render(locale: str) -> list[Reply]:
        reply = action_button(t(locale, "inbox2.reply_button"), REPLY_ACTION, str(thread.id))
        close = action_button(t(locale, "inbox2.close_button"), CLOSE_ACTION, str(thread.id))
        text = t(locale, "inbox2.alert", name=name, text=preview)
        return [Reply(text=text, buttons=(reply, close))]

    return await notify_staff(
        ctx,
        render,
        f"{alert_key(thread.id)}{message.id}",
        roles=STAFF_ROLES,
        branch_id=thread.branch_id,
    )
