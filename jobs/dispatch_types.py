"""The values the dispatcher hands out and the adapter shapes it relies on.

Outcomes (:mod:`jobs.dispatcher`): accepted → ``sent``; :class:`RateLimited` → the row is due again
after ``retry_after``, the limiter rests the channel that long (the other lanes wait, then go on)
and no attempt is used; :class:`TransientChannelError` (or an unexpected exception) → an attempt
used, back off 5 s, 30 s, 2 min, 10 min, … and ``failed`` after ``MAX_ATTEMPTS``;
:class:`RecipientUnreachable` (Telegram 403) → ``unreachable`` and the chat account marked
unreachable, the rest go on; :class:`PermanentChannelError` or an unreadable payload → ``failed``;
:class:`QuotaExhausted` (LINE's monthly limit) → the channel rests an hour (no hot retry loop) or
until a campaign is resumed (``/campaign resume``, in any process), campaigns whose rows hit it are
paused, their rows parked and the owners told once (:mod:`jobs.campaign_delivery`);
:class:`CredentialsRejected` (a 401: the bot's own token, not the row) → the row is handed back due
at once, no attempt used, and the channel rests as long as the refusals have lasted (5 s to 10 min,
:mod:`jobs.credentials`), so it goes out once ``serve`` runs with the right token.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal, Protocol

from bot.core.capabilities import capabilities_of
from bot.core.messages import Channel, Reply

log = logging.getLogger(__name__)

Outcome = Literal[
    "sent", "rate_limited", "retrying", "failed", "unreachable", "quota_exhausted", "released"
]
#: outcomes after which a campaign row is done; the tracking hook hears about these
FINAL_OUTCOMES: Final = frozenset({"sent", "failed", "unreachable"})


class KeyedOutbound(Protocol):
    """An :class:`Outbound` whose push takes a retry key (LINE's ``X-Line-Retry-Key``).

    The dispatcher relies on it for the rows of a channel whose capabilities declare
    ``retry_keys`` (``bot.channels.line.LineChannel`` is one).
    """

    async def push(
        self, user_id: str, replies: Sequence[Reply], retry_key: str | None = None
    ) -> None: ...


class ReplyingOutbound(Protocol):
    """An :class:`Outbound` that can spend a customer's reply token first (a staff answer in
    the inbox; capabilities declaring ``reply_tokens``, LINE): free while fresh, push when
    stale or refused."""

    async def push(
        self,
        user_id: str,
        replies: Sequence[Reply],
        retry_key: str | None = None,
        *,
        reply_token: str | None = None,
        reply_token_at: datetime | None = None,
    ) -> None: ...


def reply_token_of(payload: Mapping[str, Any]) -> tuple[str, datetime] | None:
    """The (reply token, when it was issued) an outbox payload carries, if any."""
    token, issued = payload.get("reply_token"), payload.get("reply_token_at")
    if not isinstance(token, str) or not token or not isinstance(issued, str):
        return None
    try:
        at = datetime.fromisoformat(issued)
    except ValueError:
        return None
    return token, at if at.tzinfo is not None else at.replace(tzinfo=UTC)


class MulticastOutbound(Protocol):
    """An adapter that sends one content to many users in one request; the dispatcher
    relies on it for channels whose capabilities declare ``multicast`` (LINE)."""

    async def multicast(
        self, user_ids: Sequence[str], replies: Sequence[Reply], retry_key: str
    ) -> None: ...


@dataclass
class DrainResult:
    """What one pass did, counted by row and outcome."""

    sent: int = 0
    rate_limited: int = 0
    retrying: int = 0
    failed: int = 0
    unreachable: int = 0
    quota_exhausted: int = 0
    #: claimed but handed back unsent (stopping, a resting channel, a lease running out)
    released: int = 0
    #: the row was withdrawn instead of sent (/stop, erased member, blocked chat, cancelled
    #: campaign): at the claim, while it waited for its turn, or before its outcome was stored
    withdrawn: int = 0
    #: promotional rows moved to the end of the quiet hours (not claimed)
    deferred: int = 0

    @property
    def claimed(self) -> int:
        return (
            self.sent
            + self.rate_limited
            + self.retrying
            + self.failed
            + self.unreachable
            + self.quota_exhausted
            + self.released
            + self.withdrawn
        )


class PendingProbe(Protocol):
    """What the unrouted-rows check needs of the outbox repository."""

    async def has_pending(self, channel: str) -> bool: ...


#: how often rows of channels nobody serves are looked for (to report them once)
UNROUTED_CHECK: Final = timedelta(minutes=10)


class UnroutedReport:
    """Logs once per channel that rows wait for a channel this process does not serve."""

    def __init__(self, served: Collection[Channel], *, enabled: bool) -> None:
        self._served = frozenset(served)
        self._enabled = enabled
        self._reported: set[str] = set()
        self._next_check: datetime | None = None

    async def __call__(self, outbox: PendingProbe, now: datetime) -> None:
        if not self._enabled or (self._next_check is not None and now < self._next_check):
            return
        self._next_check = now + UNROUTED_CHECK
        for channel in Channel:
            # console rows wait for `chatcrm chat`, which is not running all the time: normal
            if channel in self._served or capabilities_of(channel).on_demand:
                continue
            if channel.value not in self._reported and await outbox.has_pending(channel.value):
                self._reported.add(channel.value)
                log.warning("outbox rows for %s wait: that channel is not configured", channel)
