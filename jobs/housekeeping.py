"""Housekeeping: forget what the product no longer needs to keep.

Expired conversation states and media files would otherwise pile up, and processed event ids
are only needed as long as a platform may redeliver an event (hours; we keep LINE's 30 days,
Telegram's 3, see ``storage.repositories.events``). The console's sign-in links and sessions
and the one-time ``/link`` and ``/join`` codes go a while after they expire.

Each kind is deleted a bounded batch at a time, each batch in its own transaction
(``storage.expiry``): a backlog never holds the write lock for long, and two processes running
housekeeping at once delete different rows.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Final

from jobs.app import App
from storage.expiry import BATCH
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)

#: sign-in links, console sessions and one-time codes are kept this long past their expiry: a
#: code sent again from the account it already linked is still known as that member's own (and
#: not counted as a guess, ``handlers.customer.link``), and a console request that read its
#: session just before it lapsed never finds the row gone under it
SIGN_IN_KEPT: Final = timedelta(days=7)

Purge = Callable[[UnitOfWork, datetime, int], Awaitable[int]]


def _kinds() -> dict[str, Purge]:
    """What goes, by name, each given the moment by which it must have expired."""
    return {
        "conversations": lambda uow, now, n: uow.conversations.purge_expired(now, n),
        "media": lambda uow, now, n: uow.media.purge_expired(now, n),
        "events": lambda uow, now, n: uow.events.forget_expired(now, n),
        "console_links": lambda uow, now, n: uow.console.forget_links(now - SIGN_IN_KEPT, n),
        "console_sessions": lambda uow, now, n: uow.console.forget_sessions(now - SIGN_IN_KEPT, n),
        "one_time_codes": lambda uow, now, n: uow.people.forget_codes(now - SIGN_IN_KEPT, n),
    }


async def _in_batches(app: App, purge: Purge, now: datetime, batch: int) -> int:
    """Run ``purge`` a transaction at a time until a batch comes back short; how many went."""
    total = 0
    while True:
        async with app.uow() as uow:
            went = await purge(uow, now, batch)
            await uow.commit()
        total += went
        if went < batch:
            return total


async def purge_expired(app: App, batch: int = BATCH) -> dict[str, int]:
    """Delete what expired: conversation states, media, event ids past their memory, sign-in
    links, console sessions and one-time codes a while past theirs.

    Time from ``app.clock``; rows that are still valid are never touched. At most ``batch``
    rows per statement, each statement in its own transaction. Returns how many rows of each
    kind went, for the log and for tests.
    """
    now = app.clock.now()
    purged = {kind: await _in_batches(app, purge, now, batch) for kind, purge in _kinds().items()}
    if any(purged.values()):
        log.info("housekeeping purged %s", purged)
    return purged
