"""Routing of one event: button action > command > current conversation step > inbox.

Buttons are requests, not permissions: every route re-checks who may use it (``Audience``),
whatever a button said. A conversation step is a route too: a flow names its audience, and
every step re-checks it, so someone whose role was lowered (or whose membership ended) since
the conversation began cannot finish it.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Final

from bot.core.keys import CommandAction
from bot.core.messages import Button, InboundKind, Reply
from handlers.context import Context

Handler = Callable[[Context], Awaitable[list[Reply]]]


class Audience(enum.Enum):
    ANYONE = "anyone"
    MEMBER = "member"  # signed-up customers (and staff who are members)
    CASHIER = "cashier"  # any active staff account
    MANAGER = "manager"  # managers and owners
    OWNER = "owner"

    @property
    def is_staff(self) -> bool:
        return self in STAFF_RANK


#: owner > manager > cashier: a role may do what every lower role may
STAFF_RANK: Final = {Audience.CASHIER: 1, Audience.MANAGER: 2, Audience.OWNER: 3}
ROLES: Final = ("owner", "manager", "cashier")


def role_rank(role: str) -> int:
    return STAFF_RANK.get(Audience(role), 0) if role in ROLES else 0


def has_role(ctx: Context, audience: Audience) -> bool:
    """Whether the person writing holds ``audience`` (a staff role) or higher, right now."""
    staff = ctx.staff_view
    return staff is not None and role_rank(staff.role) >= STAFF_RANK[audience]


def holds(ctx: Context, audience: Audience) -> bool:
    """Whether the person writing belongs to ``audience`` right now (a staff role or higher,
    a member, or anyone)."""
    if audience.is_staff:
        return has_role(ctx, audience)
    return audience is not Audience.MEMBER or ctx.member_view is not None


#: the refusal's i18n key, by whether the audience was a staff role
_REFUSAL: Final = {True: "error.not_allowed", False: "error.not_a_member"}


@dataclass(frozen=True)
class Command:
    name: str
    handler: Handler
    audience: Audience = Audience.MEMBER
    #: words that work without a slash (LINE users type them; Thai keywords)
    keywords: tuple[str, ...] = ()
    #: whether a bare keyword interrupts a conversation that is waiting for free text
    during_flow: bool = False
    #: i18n key of the one-line description in menus and /help; None hides it from menus
    describe: str | None = None


@dataclass
class Router:
    commands: dict[str, Command] = field(default_factory=dict)
    #: button actions by namespace (``"ns:rest"``; the handler gets ``rest`` as ``ctx.args``)
    actions: dict[str, tuple[Handler, Audience]] = field(default_factory=dict)
    #: conversation steps by flow name; a flow's buttons use its name as their namespace
    flows: dict[str, tuple[Handler, Audience]] = field(default_factory=dict)
    on_follow: Handler | None = None
    on_unfollow: Handler | None = None
    fallback: Handler | None = None
    not_a_member: Handler | None = None
    _keywords: dict[str, str] = field(default_factory=dict)

    def command(self, command: Command) -> None:
        self.commands[command.name] = command
        for word in command.keywords:
            self._keywords[word.casefold()] = command.name

    def action(
        self, namespace: str, handler: Handler, audience: Audience = Audience.MEMBER
    ) -> None:
        self.actions[namespace] = (handler, audience)

    def flow(self, name: str, handler: Handler, audience: Audience) -> None:
        """Register the steps of conversation ``name``, each one for ``audience`` only."""
        self.flows[name] = (handler, audience)

    def parse_command(self, ctx: Context) -> tuple[Command | None, str, bool]:
        """(command, its arguments, whether the text looked like a command at all)."""
        text = ctx.inbound.text.strip()
        if not text:
            return None, "", False
        head, _, rest = text.partition(" ")
        if head.startswith("/"):
            slash_name = head[1:].split("@", 1)[0].casefold()
            return self.commands.get(slash_name), rest.strip(), True
        name = self._keywords.get(head.casefold())
        if name is None:
            whole = self._keywords.get(text.casefold())  # a keyword of several words
            if whole is None:
                return None, "", False
            name, rest = whole, ""
        command = self.commands[name]
        if ctx.state is not None and not command.during_flow:
            return None, "", False
        return command, rest.strip(), True

    async def _allowed(self, ctx: Context, audience: Audience) -> list[Reply] | None:
        """None when the writer is in ``audience``; else the refusal of a command or button."""
        if holds(ctx, audience):
            return None
        if audience is Audience.MEMBER and self.not_a_member is not None:
            return await self.not_a_member(ctx)
        return [ctx.reply(_REFUSAL[audience.is_staff])]

    async def step(self, ctx: Context) -> list[Reply] | None:
        """Run the step of the writer's conversation; None when they are in none of ours.

        Someone no longer in the flow's audience is refused and the conversation ends (else
        every later message would meet the same refusal until it expired).
        """
        if ctx.state is None or ctx.state.flow not in self.flows:
            return None
        handler, audience = self.flows[ctx.state.flow]
        if not holds(ctx, audience):
            ctx.finish()
            return [ctx.reply(_REFUSAL[audience.is_staff])]
        return await handler(ctx)

    async def route(self, ctx: Context) -> list[Reply]:
        inbound = ctx.inbound
        if inbound.kind is InboundKind.UNFOLLOW:
            return await self.on_unfollow(ctx) if self.on_unfollow else []
        if inbound.kind is InboundKind.FOLLOW:
            return await self.on_follow(ctx) if self.on_follow else []

        if inbound.kind is InboundKind.ACTION and inbound.action:
            return await self._press(ctx, inbound.action)

        command, args, looked_like_command = self.parse_command(ctx)
        if command is not None:
            ctx.args = args
            return await self._run(ctx, command)
        if looked_like_command:
            return [ctx.reply("error.unknown_command")]

        stepped = await self.step(ctx)
        if stepped is not None:
            return stepped
        if self.fallback is not None:
            return await self.fallback(ctx)
        return []

    async def _press(self, ctx: Context, action: str) -> list[Reply]:
        """A button: a step of the flow in progress, a command, or a namespace's action."""
        namespace, _, ctx.args = action.partition(":")
        if namespace in self.flows:
            if ctx.state is None or ctx.state.flow != namespace:
                return [ctx.reply("error.button_expired")]
            return await self.step(ctx) or []
        pressed = CommandAction.parse(action)
        if pressed is not None:
            command = self.commands.get(pressed.name)
            if command is None:
                return [ctx.reply("error.button_expired")]
            ctx.args = pressed.args
            return await self._run(ctx, command)
        if namespace in self.actions:
            handler, audience = self.actions[namespace]
            refused = await self._allowed(ctx, audience)
            return refused if refused is not None else await handler(ctx)
        return [ctx.reply("error.button_expired")]

    async def _run(self, ctx: Context, command: Command) -> list[Reply]:
        refused = await self._allowed(ctx, command.audience)
        if refused is not None:
            return refused
        return await command.handler(ctx)

    def menu(self, role: str | None = None) -> list[Command]:
        """Commands shown in menus and /help, in registration order: the customer commands,
        plus, for a staff ``role``, the staff commands that role may use."""
        rank = role_rank(role) if role else 0
        return [
            c
            for c in self.commands.values()
            if c.describe is not None
            and (not c.audience.is_staff or (rank and rank >= STAFF_RANK[c.audience]))
        ]


def action_button(label: str, namespace: str, *parts: str) -> Button:
    return Button(label=label, action=":".join((namespace, *parts)))
