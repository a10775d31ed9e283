"""A fan-out pass's feeder claim: the rows read, leased and committed first, their messages
built once the connection is free.

The feeder claims while the pass's requests are in flight, on the connection the pass's
outcome writes share (:mod:`jobs.dispatcher`): every moment it holds that connection, the
workers whose requests were answered wait to record them before they send again. On SQLite the
claim runs in one trip (``Outbox.claim_rows``) and what is left for the event loop, building a
thousand rows' messages, is done after the connection is handed on; elsewhere the claim is
:func:`shop.withdrawal.claim_sendable`, as for any other pass. Either way the rows, the lease
and the withdrawal of promotions their member may no longer get are those of that claim.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from datetime import datetime

from bot.core.keys import CampaignMessageKey
from shop.campaigns.tracking import finish_if_done
from shop.withdrawal import Claimed, claim_sendable
from storage.repositories.outbox_trip import queued, unwanted
from storage.uow import UnitOfWork

#: a claim's messages, built when called (after the claim's transaction is committed)
Built = Callable[[], Claimed]


async def claim_fanout(
    uow: UnitOfWork,
    now: datetime,
    limit: int,
    lease_until: datetime,
    channels: Collection[str],
    recipients: Mapping[str, Collection[str]],
) -> Built:
    """Claim up to ``limit`` due rows of ``channels`` until ``lease_until`` and commit ``uow``
    (as ``claim_sendable`` then a commit would); returns what builds the claimed messages."""
    if channels and not any(channel in recipients for channel in channels):
        rows = await uow.outbox.claim_rows(now, limit, lease_until, channels)
        if rows is not None:
            gone = unwanted(rows)
            if gone:  # leased, not committed yet: withdrawn in the same transaction
                keys = await uow.withdrawals.rows(gone)
                campaigns = {key.campaign_id for key in map(CampaignMessageKey.parse, keys) if key}
                for campaign_id in sorted(campaigns):
                    await finish_if_done(uow, campaign_id, now)
            await uow.commit()
            return lambda: Claimed([row for row in queued(rows) if not row.unwanted], len(gone))
    claimed = await claim_sendable(uow, now, limit, lease_until, channels, recipients)
    await uow.commit()
    return lambda: claimed
