"""The fast driver: simulated people talk to the bus in-process, pushes land in recorders.

Same interface as :class:`simulator.world.HttpWorld`, without HTTP: events go straight to
``app.bus.handle`` as the channel adapters would hand them over, and the dispatcher pushes to
:class:`Recorder` outbounds that remember every message and refuse the ones the platform would
(a blocked chat as :class:`~bot.core.errors.RecipientUnreachable`, a broken one as a permanent
error). For big runs (the demo's history, long ``chatcrm simulate`` runs); the exact-count
tests use the HTTP driver.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from bot.bootstrap import App
from bot.core.capabilities import ChannelCapabilities, capabilities_of
from bot.core.errors import PermanentChannelError, RecipientUnreachable
from bot.core.messages import Channel, Identity, Inbound, InboundKind, Reply
from bot.core.ports import Outbound
from simulator.world import Outgoing


@dataclass
class Recorder:
    """An :class:`~bot.core.ports.Outbound` that records pushes (and refuses some)."""

    channel: Channel
    sent: list[Outgoing] = field(default_factory=list)
    blocked: set[str] = field(default_factory=set)
    broken: set[str] = field(default_factory=set)

    @property
    def capabilities(self) -> ChannelCapabilities:
        """The platform's own: a recorder stands in for the real adapter."""
        return capabilities_of(self.channel)

    async def push(self, user_id: str, replies: Sequence[Reply], **keys: object) -> None:
        """Record ``replies`` to ``user_id``; raise as the platform would for a refusal.
        ``keys``: LINE's retry key and reply token, which a recorder has no use for."""
        status = 403 if user_id in self.blocked else 400 if user_id in self.broken else 200
        text = "\n".join(reply.text for reply in replies)
        actions = tuple(b.action for reply in replies for b in reply.buttons if b.action)
        self.sent.append(Outgoing(self.channel.value, user_id, status, text, actions))
        if status == 403:
            raise RecipientUnreachable("blocked by the user")
        if status == 400:
            self.broken.discard(user_id)  # refused once, like the HTTP fake
            raise PermanentChannelError("chat not found")

    async def multicast(self, user_ids: Sequence[str], replies: Sequence[Reply], key: str) -> None:
        """The same message to several people (LINE), recorded one by one."""
        for user_id in user_ids:
            if user_id not in self.blocked and user_id not in self.broken:
                await self.push(user_id, replies)


@dataclass
class InProcessWorld:
    app: App
    recorders: dict[Channel, Recorder] = field(
        default_factory=lambda: {c: Recorder(c) for c in (Channel.TELEGRAM, Channel.LINE)}
    )
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    _seen: dict[Channel, int] = field(default_factory=dict)

    @property
    def channels(self) -> dict[Channel, Outbound]:
        return dict(self.recorders)

    async def say(self, channel: str, user_id: str, text: str) -> str:
        return await self._handle(channel, user_id, InboundKind.TEXT, text=text)

    async def press(self, channel: str, user_id: str, data: str) -> str:
        return await self._handle(channel, user_id, InboundKind.ACTION, action=data)

    async def block(self, channel: str, user_id: str) -> None:
        await self._handle(channel, user_id, InboundKind.UNFOLLOW)
        self.recorders[Channel(channel)].blocked.add(user_id)

    def refuse_always(self, channel: str, user_id: str) -> None:
        self.recorders[Channel(channel)].blocked.add(user_id)

    def refuse_once(self, channel: str, user_id: str) -> None:
        self.recorders[Channel(channel)].broken.add(user_id)

    def outgoing(self) -> list[Outgoing]:
        out: list[Outgoing] = []
        for channel, recorder in self.recorders.items():
            start = self._seen.get(channel, 0)
            out.extend(recorder.sent[start:])
            self._seen[channel] = len(recorder.sent)
        return out

    async def _handle(
        self, channel: str, user_id: str, kind: InboundKind, *, text: str = "", action: str = ""
    ) -> str:
        inbound = Inbound(
            identity=Identity(Channel(channel), user_id),
            kind=kind,
            received_at=self.app.clock.now(),
            event_id=f"{channel}:sim-{next(self._ids)}",
            text=text,
            action=action or None,
        )
        replies = await self.app.bus.handle(inbound)
        return "\n".join(reply.text for reply in replies)
