"""Messages from a handler to people other than the one who wrote: receipts, staff alerts.

They are queued in the outbox inside the handler's unit of work, so they exist only if the
event's effects are committed (a rolled-back sale sends no receipt), and each carries a
de-duplication key, so a handler that runs again for the same cause queues nothing new. The
dispatcher sends them after the commit (the bus wakes it).

Keys: use the cause, e.g. ``sale:<receipt>:receipt`` or ``approval:<id>:ask``; staff messages
get ``|s<staff id>`` appended per recipient. At most 128 characters in all.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from bot.core.keys import staff_message_key
from bot.core.messages import Reply
from bot.core.wire import replies_to_payload
from bot.i18n import supported_locale
from handlers.context import Context
from shop.notices import queue_member_notice
from storage.repositories.outbox_reads import StaffRecipient
from storage.repositories.outbox_rows import MAX_KEY_LENGTH

#: room kept at the end of a caller's key for the per-staff suffix
STAFF_SUFFIX_ROOM = 12


async def notify_member(
    ctx: Context,
    member_id: int,
    replies: list[Reply],
    key: str,
    *,
    promotional: bool = False,
    tell_apart: bool = True,
) -> bool:
    """Queue ``replies`` for a member on their preferred chat account (reachable, seen last).

    Returns False, queuing nothing, when the member has no reachable chat account (not signed
    up on any channel, blocked the bot everywhere, erased). True when the message is queued,
    also when ``key`` had been queued before (it is then not queued twice). The caller renders
    ``replies`` in the member's language (``member.locale``). Promotional messages must only
    be queued after the contact policy allowed them; this function does not check consent.
    ``tell_apart=False`` (a caller that ignores the answer): True only when queued now, one
    statement fewer when nothing was (:func:`shop.notices.queue_member_notice`).
    """
    payload = replies_to_payload(replies)
    queued = await queue_member_notice(
        ctx.uow, member_id, payload, key, ctx.now, promotional=promotional, tell_apart=tell_apart
    )
    return queued is not None if tell_apart else bool(queued)


def staff_locale(ctx: Context, recipient: StaffRecipient) -> str:
    """The language a staff member reads: the one they chose as a member on the same chat
    account, else their platform's hint (as the bus uses for them), else the shop's."""
    return (
        recipient.member_locale or supported_locale(recipient.language_code) or ctx.settings.locale
    )


async def notify_staff(
    ctx: Context,
    replies_for: Callable[[str], list[Reply]],
    key: str,
    *,
    roles: Collection[str],
    branch_id: int | None = None,
) -> int:
    """Queue a message for every active staff member with one of ``roles``.

    With ``branch_id``, only that branch's staff and staff with no branch (who work at every
    branch) are told. ``replies_for(locale)`` renders the message in each person's language.
    Staff whose chat account is unreachable are skipped. Returns how many were queued now
    (0 on a re-run with the same ``key``).
    """
    if len(key) > MAX_KEY_LENGTH - STAFF_SUFFIX_ROOM:
        raise ValueError(f"key too long for staff messages: {key!r}")
    recipients = await ctx.uow.outbox.staff_recipients(roles, branch_id)
    rendered: dict[str, dict[str, Any]] = {}
    queued = 0
    for recipient in recipients:
        if not recipient.reachable:
            continue
        locale = staff_locale(ctx, recipient)
        if locale not in rendered:
            rendered[locale] = replies_to_payload(replies_for(locale))
        if await ctx.uow.outbox.enqueue(
            staff_message_key(key, recipient.staff_id),
            recipient.channel,
            recipient.user_id,
            dict(rendered[locale]),
            ctx.now,
        ):
            queued += 1
    return queued
