"""Fake channel adapters for dispatcher tests: they record what was pushed and can fail."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Final

from bot.core.capabilities import LINE_CAPABILITIES, TELEGRAM_CAPABILITIES, ChannelCapabilities
from bot.core.messages import Channel, Reply

#: LINE's capabilities less multicast: :class:`FakeLine` has no ``multicast``
LINE_WITHOUT_MULTICAST: Final = replace(LINE_CAPABILITIES, multicast_max=1)


@dataclass
class Push:
    user_id: str
    texts: list[str]
    retry_key: str | None = None


@dataclass
class FakeTelegram:
    """An Outbound with Telegram's push signature (no retry key)."""

    channel: Channel = Channel.TELEGRAM
    capabilities: ChannelCapabilities = TELEGRAM_CAPABILITIES
    pushes: list[Push] = field(default_factory=list)
    #: raised, one per push, before anything is recorded as sent
    failures: list[Exception] = field(default_factory=list)
    #: runs at the start of every push (to change the world while a message is in flight)
    on_push: Callable[[], Awaitable[None]] | None = None

    async def push(self, user_id: str, replies: Sequence[Reply]) -> None:
        if self.on_push is not None:
            await self.on_push()
        if self.failures:
            raise self.failures.pop(0)
        self.pushes.append(Push(user_id, [r.text for r in replies]))


@dataclass
class FakeLine:
    """An Outbound with LINE's push signature; ``calls`` records failed attempts too."""

    channel: Channel = Channel.LINE
    capabilities: ChannelCapabilities = LINE_WITHOUT_MULTICAST
    pushes: list[Push] = field(default_factory=list)
    calls: list[Push] = field(default_factory=list)
    failures: list[Exception] = field(default_factory=list)

    async def push(
        self, user_id: str, replies: Sequence[Reply], retry_key: str | None = None
    ) -> None:
        call = Push(user_id, [r.text for r in replies], retry_key)
        self.calls.append(call)
        if self.failures:
            raise self.failures.pop(0)
        self.pushes.append(call)
