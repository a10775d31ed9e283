"""A notice to one member: queued once per key on the chat account they were seen on last.

The one place that picks the member's chat account and queues a notice there, for the chat
handlers (a receipt, a points adjustment, a redeemed coupon), the shop's own rules (a
referral bonus) and the jobs (a further automation notice). The caller words the replies, in
the member's language; this module only queues them in the outbox.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from storage.uow import UnitOfWork


async def queue_member_notice(
    uow: UnitOfWork,
    member_id: int,
    payload: dict[str, Any],
    key: str,
    now: datetime,
    *,
    promotional: bool = False,
    not_before: datetime | None = None,
    tell_apart: bool = True,
) -> bool | None:
    """Queue ``payload`` (replies as ``bot.core.wire`` stores them) for a member on their
    preferred chat account (reachable, seen last).

    None, queuing nothing, when the member has no reachable chat account (not signed up on any
    channel, blocked the bot everywhere, erased); True when queued now; False when ``key`` had
    been queued before (it is not queued twice). Consent is the caller's: a promotional notice
    is queued only after the contact policy allowed it.

    One statement chooses the account and writes the row; only when it wrote nothing is the
    account read, to tell the first case from the last. ``tell_apart=False`` (a caller that does
    not ask) skips that read and returns False for both.
    """
    queued = await uow.outbox.enqueue_to_member(
        key, member_id, payload, now, promotional=promotional, not_before=not_before
    )
    if queued or not tell_apart:
        return queued
    return None if await uow.identities.preferred(member_id) is None else False
