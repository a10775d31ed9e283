"""How a claimed batch of outbox rows becomes requests: lanes per chat, multicasts.

* Rows to one chat form one *lane*, sent in order by one worker (the per-chat limit spaces
  them); lanes run side by side under the platform's overall limit.
* Promotional rows with the same payload (the same JSON) on a channel whose capabilities
  declare multicast (LINE: up to 500 recipients) are sent as multicast requests of up to
  ``multicast_max`` recipients, each request a lane of its own. Groups are formed
  deterministically: rows sorted by id, split into chunks of ``multicast_max`` from the first
  row of the batch, and each chunk's retry key (LINE's ``X-Line-Retry-Key``) is a UUIDv5 over
  its rows' own retry keys (sorted). A process that restarts after a crash claims the same
  pending rows in the same order, forms the same chunk and sends it with the same key, which
  LINE answers 409 if it had accepted it: no recipient gets the message twice.
* Everything else (transactional rows, personalised promotions) is pushed one by one.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from bot.core.capabilities import ChannelCapabilities
from bot.core.messages import Channel
from jobs.ratelimit import SendLimiter
from storage.repositories.outbox import QueuedMessage

#: namespace of multicast retry keys (any fixed UUID; changing it would break crash recovery)
MULTICAST_NAMESPACE: Final = uuid.UUID("5f0c3b7e-2a51-4d7e-9c1e-6b1f3c2a9d40")


@dataclass(frozen=True, slots=True)
class Delivery:
    """One request to a platform: a push of one row, or a multicast of several rows."""

    rows: tuple[QueuedMessage, ...]
    multicast: bool = False
    retry_key: str | None = None

    @property
    def channel(self) -> Channel:
        return Channel(self.rows[0].channel)

    @property
    def kind(self) -> str:
        return "multicast" if self.multicast else "push"

    @property
    def chat(self) -> str:
        return self.rows[0].user_id

    @property
    def messages(self) -> int:
        """The replies the request carries (a reply may become more platform messages)."""
        replies = self.rows[0].payload.get("replies")
        return len(replies) if isinstance(replies, list) else 1

    @property
    def urgent(self) -> bool:
        return any(row.priority > 0 for row in self.rows)

    async def wait_turn(self, limiter: SendLimiter) -> None:
        """The turn of the request's first platform message; the sender waits for each
        further one's right before it (:func:`jobs.dispatch_send.send`)."""
        await limiter.before_send(self.channel, self.kind, self.chat, 1, urgent=self.urgent)


def multicast_key(rows: Sequence[QueuedMessage]) -> str:
    """The retry key of a multicast of ``rows``: the same rows always give the same key."""
    keys = sorted(row.retry_key or f"id:{row.id}" for row in rows)
    return str(uuid.uuid5(MULTICAST_NAMESPACE, ",".join(keys)))


def _by_id(row: QueuedMessage) -> int:
    return row.id


def _payload_key(row: QueuedMessage) -> str:
    return json.dumps(row.payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def plan(
    batch: Sequence[QueuedMessage], capabilities: Mapping[Channel, ChannelCapabilities]
) -> list[list[Delivery]]:
    """The lanes for ``batch`` (see the module docstring): lanes with an urgent row (a reply)
    first, then in the order of their first row.

    ``capabilities`` says, per channel, whether and to how many recipients rows may be
    multicast; a channel missing from it is pushed row by row.
    """
    groups: dict[tuple[str, str], list[QueuedMessage]] = {}
    singles: list[QueuedMessage] = []
    # rows of one claim share their parsed payload: its text is formed once per payload
    texts: dict[int, str] = {}
    # which channels multicast, looked up once per channel string rather than once per row
    multicasts = {
        name: caps.multicast
        for name in {row.channel for row in batch}
        if (caps := capabilities.get(Channel(name))) is not None
    }
    for row in sorted(batch, key=_by_id):
        if row.promotional and multicasts.get(row.channel):
            text = texts.get(id(row.payload))
            if text is None:
                text = texts[id(row.payload)] = _payload_key(row)
            groups.setdefault((row.channel, text), []).append(row)
        else:
            singles.append(row)
    lanes: list[tuple[int, list[Delivery]]] = []
    for (channel, _), rows in groups.items():
        if len(rows) == 1:
            singles.extend(rows)
            continue
        size = capabilities[Channel(channel)].multicast_max
        for start in range(0, len(rows), size):
            chunk = tuple(rows[start : start + size])
            delivery = Delivery(chunk, multicast=True, retry_key=multicast_key(chunk))
            lanes.append((chunk[0].id, [delivery]))
    by_chat: dict[tuple[str, str], list[Delivery]] = {}
    for row in sorted(singles, key=_by_id):
        lane = by_chat.get((row.channel, row.user_id))
        if lane is None:
            lane = by_chat[(row.channel, row.user_id)] = []
            lanes.append((row.id, lane))
        lane.append(Delivery((row,), retry_key=row.retry_key))
    # lanes holding a reply someone waits for go first, then in the order of their first row
    return [lane for _, lane in sorted(lanes, key=lambda item: (-_priority(item[1]), item[0]))]


def _priority(lane: list[Delivery]) -> int:
    return max(row.priority for delivery in lane for row in delivery.rows)
