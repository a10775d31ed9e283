"""What a handler gets: the event, the person, their conversation state and the unit of work."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from bot.config import Settings
from bot.core.clock import Clock
from bot.core.messages import Button, Inbound, Reply
from bot.core.ports import QuotaReader
from bot.i18n import t, tn
from storage.models import ChannelIdentity, Member, Staff
from storage.repositories.arrival import IdentityView, MemberView, StaffView
from storage.repositories.branches import OpenBranch
from storage.uow import UnitOfWork

DEFAULT_FLOW_TTL = timedelta(minutes=30)


@dataclass
class FlowState:
    """One step of a multi-step conversation. ``data`` must stay JSON-serialisable."""

    flow: str
    step: str
    data: dict[str, Any] = field(default_factory=dict)
    ttl: timedelta = DEFAULT_FLOW_TTL


class Context:
    """One event as its handler sees it.

    ``identity``, ``member`` and ``staff`` are the session's objects, made on first use from
    the rows the arrival read (``storage.repositories.arrival``); a handler that only reads
    them uses ``identity_view``, ``member_view`` and ``staff_view``, which make nothing (the
    common events' whole cost is small enough for the objects to count).
    """

    def __init__(
        self,
        *,
        inbound: Inbound,
        uow: UnitOfWork,
        identity: ChannelIdentity | IdentityView,
        member: Member | MemberView | None,
        state: FlowState | None,
        clock: Clock,
        settings: Settings,
        locale: str,
        staff: Staff | StaffView | None = None,
        args: str = "",
        quota_reader: QuotaReader | None = None,
    ) -> None:
        self.inbound = inbound
        self.uow = uow
        self.state = state
        self.clock = clock
        self.settings = settings
        self.locale = locale
        #: the words after a command, or after the namespace of a button action
        self.args = args
        self.state_changed = False
        #: set when the LINE channel is on (campaign previews show the quota); None elsewhere
        self.quota_reader = quota_reader
        self._identity = identity
        self._member = member
        #: the active staff account of this chat identity, if it has one
        self._staff = staff
        self._open_branches: Sequence[OpenBranch] | None = None

    @property
    def identity(self) -> ChannelIdentity:
        """The session's object of the author's chat account (made on first use)."""
        if isinstance(self._identity, IdentityView):
            self._identity = self.uow.identities.materialiser.held(ChannelIdentity, self._identity)
        return self._identity

    @property
    def member(self) -> Member | None:
        """The session's object of the author's member (made on first use); None for none."""
        if isinstance(self._member, MemberView):
            self._member = self.uow.identities.materialiser.held(Member, self._member)
        return self._member

    @member.setter
    def member(self, member: Member | None) -> None:
        self._member = member

    @property
    def staff(self) -> Staff | None:
        """The session's object of the author's active staff account (made on first use)."""
        if isinstance(self._staff, StaffView):
            self._staff = self.uow.identities.materialiser.held(Staff, self._staff)
        return self._staff

    @staff.setter
    def staff(self, staff: Staff | None) -> None:
        self._staff = staff

    @property
    def identity_view(self) -> ChannelIdentity | IdentityView:
        """The author's chat account to read: the session's object once made, else the view."""
        return self._identity

    @property
    def member_view(self) -> Member | MemberView | None:
        """The author's member to read (as :attr:`identity_view`)."""
        return self._member

    @property
    def staff_view(self) -> Staff | StaffView | None:
        """The author's active staff account to read (as :attr:`identity_view`)."""
        return self._staff

    async def open_branches(self) -> Sequence[OpenBranch]:
        """The shop's open branches, read once per event: a step that decides whether to ask
        for a branch, then offers them, reads them once. For handlers that do not open or close
        branches themselves (those read ``uow.branches`` after their write)."""
        if self._open_branches is None:
            self._open_branches = await self.uow.branches.choices()
        return self._open_branches

    @property
    def now(self) -> datetime:
        return self.clock.now()

    @property
    def actor(self) -> str:
        """Who acts, for the audit log: ``staff:<id>`` for staff, else the chat identity."""
        if self._staff is not None:
            return f"staff:{self._staff.id}"
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
