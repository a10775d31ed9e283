"""Channel readiness: the part of an audience whose channel is not connected.

A message to a member on a channel this installation has no token for is queued like any other,
but nothing can deliver it until the channel is connected: it waits in the outbox. The preview
says so before the send, from the plain set of connected channels the caller passes in (which
channels are configured is the composition root's knowledge, not the shop's).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Waiting:
    """``count`` recipients are on ``channel``, which is not connected: their messages wait."""

    channel: str
    count: int


def waiting_recipients(
    per_channel: Mapping[str, int], connected: Collection[str]
) -> tuple[Waiting, ...]:
    """The recipients on channels not in ``connected``, largest group first."""
    waiting = [
        Waiting(channel, count)
        for channel, count in per_channel.items()
        if count > 0 and channel not in connected
    ]
    return tuple(sorted(waiting, key=lambda w: (-w.count, w.channel)))
