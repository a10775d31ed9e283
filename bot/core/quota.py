"""LINE's monthly quota as a campaign preview asks for it: inside an event's transaction.

A preview is a staff event like any other: it runs in the bus's transaction, which holds its
group-commit batch (up to 32 events) and, on SQLite, the shop's one runner, until it commits.
Asked there, a slow quota API (the SDK waits up to 5 minutes) would hold every customer's
reply with it. :class:`BoundedQuota` waits at most :data:`QUOTA_WAIT_SECONDS` for the answer;
past that the preview says the quota is unknown (as when LINE refuses). The question is not
withdrawn: it goes on outside the transaction, and previews asking meanwhile wait for the same
answer instead of asking again.
"""

from __future__ import annotations

import asyncio
from typing import Final

from bot.core.errors import TransientChannelError
from bot.core.ports import QuotaReader

#: the longest an event's transaction waits for LINE's quota (LINE answers in well under one)
QUOTA_WAIT_SECONDS: Final = 3.0

Quota = tuple[int | None, int]


class BoundedQuota:
    """A :data:`~bot.core.ports.QuotaReader` that answers within ``wait`` seconds or raises
    :class:`~bot.core.errors.TransientChannelError` (which a preview shows as "unknown")."""

    def __init__(self, read: QuotaReader, wait: float = QUOTA_WAIT_SECONDS) -> None:
        self._read = read
        self.wait = wait
        self._asking: asyncio.Future[Quota] | None = None

    async def __call__(self) -> Quota:
        asking = self._asking
        if asking is None or asking.done():
            asking = self._asking = asyncio.ensure_future(self._read())
            asking.add_done_callback(_seen)
        try:
            return await asyncio.wait_for(asyncio.shield(asking), self.wait)
        except TimeoutError as error:
            raise TransientChannelError(
                f"LINE's quota was not answered within {self.wait:g} s"
            ) from error


def _seen(task: asyncio.Future[Quota]) -> None:
    """Takes the outcome of a question nobody waited for to the end (no "never retrieved")."""
    if not task.cancelled():
        task.exception()
