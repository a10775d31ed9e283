"""Changes in whether a member can be reached, kept so a campaign can be blamed for them.

Written by the bus (a block or unfollow; coming back), by ``/stop`` and ``/resume``, and by
the dispatcher's outcome hook (a Telegram 403 found while sending). The stats count a
``blocked`` or ``stopped`` event against the last campaign that reached the member within
48 hours before it (``shop.campaigns.stats``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Final, Literal

from storage.uow import UnitOfWork

ContactKind = Literal["blocked", "unblocked", "stopped", "resumed"]
KINDS: Final = ("blocked", "unblocked", "stopped", "resumed")


async def record_contact_event(
    uow: UnitOfWork, member_id: int, channel: str, kind: ContactKind, now: datetime
) -> None:
    """Append one event (never updated, never deleted except by erasure of the member row)."""
    await uow.contact_events.add(member_id, channel, kind, now)
