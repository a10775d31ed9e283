"""What a handler gets: the event, the person, their conversation state and the unit of work."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from bot.config import Settings
from bot.core.clock import Clock
from bot.core.messages import Button, Inbound, Reply
from bot.core.ports import QuotaReader
from bot.i18n import t, tn
from storage.models import ChannelIdentity, Member, Staff
from storage.uow import UnitOfWork

DEFAULT_FLOW_TTL = timedelta(minutes=30)


@dataclass
class FlowState:
    """One step of a multi-step conversation. ``data`` must stay JSON-serialisable."""

    flow: str
    step: str
    data: dict[str, Any] = field(default_factory=dict)
    ttl: timedelta = DEFAULT_FLOW_TTL


@dataclass
class Context:
    inbound: Inbound
    uow: UnitOfWork
    identity: ChannelIdentity
    member: Member | None
    state: FlowState | None
    clock: Clock
    settings: Settings
    locale: str
    #: the active staff account of this chat identity, if it has one
    staff: Staff | None = None
    #: the words after a command, or after the namespace of a button action
    args: str = ""
    state_changed: bool = False
    #: set when the LINE channel is on (campaign previews show the quota); None elsewhere
    quota_reader: QuotaReader | None = None

    @property
    def now(self) -> datetime:
        return self.clock.now()

    @property
    def actor(self) -> str:
        """Who acts, for the audit log: ``staff:<id>`` for staff, else the chat identity."""
        if self.staff is not None:
            return f"staff:{self.staff.id}"
        return str(self.inbound.identity)

    @property
    def channel(self) -> str:
        return self.inbound.identity.channel.value

    def t(self, key: str, **params: Any) -> str:
        return t(self.locale, key, **params)

    def tn(self, key: str, count: int, **params: Any) -> str:
        """The text for ``count`` of something, in the plural form the language asks for."""
        return tn(self.locale, key, count, **params)

    def reply(self, key: str, *buttons: Button, **params: Any) -> Reply:
        return Reply(text=self.t(key, **params), buttons=tuple(buttons))

    def begin(
        self, flow: str, step: str, data: dict[str, Any] | None = None, ttl: timedelta | None = None
    ) -> FlowState:
        """Start (or move to) a step; saved with this event's other effects."""
        self.state = FlowState(flow, step, dict(data or {}), ttl or DEFAULT_FLOW_TTL)
        self.state_changed = True
        return self.state

    def goto(self, step: str, **data: Any) -> None:
        """Move the current flow to ``step``, merging ``data`` into what it has collected."""
        assert self.state is not None, "goto() needs a flow in progress"
        self.state.step = step
        self.state.data.update(data)
        self.state_changed = True

    def finish(self) -> None:
        """End the current conversation, if any."""
        self.state = None
        self.state_changed = True


class EventRouter(Protocol):
    """What the bus needs of a router: the replies to one event, given its context."""

    async def route(self, ctx: Context) -> list[Reply]: ...
