"""Housekeeping: forget what the product no longer needs to keep.

Expired conversation states and media files would otherwise pile up, and processed event ids
are only needed as long as a platform may redeliver an event (hours; we keep LINE's 30 days,
Telegram's 3, see ``storage.repositories.events``).
"""

from __future__ import annotations

import logging

from jobs.app import App

log = logging.getLogger(__name__)


async def purge_expired(app: App) -> dict[str, int]:
    """Delete expired conversation states, expired media and event ids past their memory.

    One transaction, time from ``app.clock``; rows that are still valid are never touched.
    Returns how many rows of each kind went, for the log and for tests.
    """
    now = app.clock.now()
    async with app.uow() as uow:
        purged = {
            "conversations": await uow.conversations.purge_expired(now),
            "media": await uow.media.purge_expired(now),
            "events": await uow.events.forget_expired(now),
        }
        await uow.commit()
    if any(purged.values()):
        log.info("housekeeping purged %s", purged)
    return purged
