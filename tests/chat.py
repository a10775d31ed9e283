"""A person chatting with the bus directly: the fastest way to test handlers end to end."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from bot.bootstrap import App
from bot.core.messages import Channel, Identity, Inbound, InboundKind, Reply

_event_ids = itertools.count(1)


@dataclass
class Chat:
    app: App
    user_id: str = "u1"
    channel: Channel = Channel.TELEGRAM
    language_code: str | None = "th"
    display_name: str | None = "Ploy"
    last: list[Reply] = field(default_factory=list)

    @property
    def identity(self) -> Identity:
        return Identity(self.channel, self.user_id)

    async def _send(self, kind: InboundKind, **fields: object) -> list[Reply]:
        inbound = Inbound(
            identity=self.identity,
            kind=kind,
            received_at=self.app.clock.now(),
            event_id=f"test:{next(_event_ids)}",
            display_name=self.display_name,
            language_code=self.language_code,
            **fields,  # type: ignore[arg-type]
        )
        self.last = await self.app.bus.handle(inbound)
        return self.last

    async def say(self, text: str) -> list[Reply]:
        return await self._send(InboundKind.TEXT, text=text)

    async def press(self, action: str) -> list[Reply]:
        return await self._send(InboundKind.ACTION, action=action)

    async def press_label(self, label: str) -> list[Reply]:
        """Press the button labelled ``label`` among the last replies' buttons."""
        for reply in self.last:
            for button in reply.buttons:
                if button.label == label:
                    return await self.press(button.action)
        labels = [b.label for r in self.last for b in r.buttons]
        raise AssertionError(f"no button {label!r} in {labels}")

    async def share_contact(self, phone: str, own: bool = True) -> list[Reply]:
        return await self._send(InboundKind.CONTACT, contact_phone=phone, contact_is_own=own)

    async def follow(self) -> list[Reply]:
        return await self._send(InboundKind.FOLLOW)

    async def unfollow(self) -> list[Reply]:
        return await self._send(InboundKind.UNFOLLOW)

    def text(self) -> str:
        """All text of the last replies, joined: what the person read."""
        return "\n".join(reply.text for reply in self.last)
