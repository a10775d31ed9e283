"""The console channel: the same bot in a terminal, no tokens needed (``chatcrm chat``).

Every typed line becomes one :class:`Inbound` on the same bus as LINE and Telegram. What a
terminal cannot show is degraded here, not in handlers: buttons become numbered choices (typing
the number presses the button), a share-contact button becomes a hint to type the phone, files
and images are saved to a folder and their path printed, and a member card is printed as text
with its QR drawn in block characters.

A terminal is one person's: its adapter declares ``serves_only`` (its own user), so the
dispatcher of this process hands it only the messages to that user; a message to another
console user (the owner's approval, while the cashier's terminal runs) stays in the outbox
until that user's own ``chatcrm chat`` runs. A piped session ends quietly when its input ends
or its reader goes away (a closed pipe), without a traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import io
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, TextIO

import segno

from bot.core.capabilities import CONSOLE_CAPABILITIES
from bot.core.clock import Clock
from bot.core.errors import TransientChannelError
from bot.core.keys import FORGET_FILES_META, card_filename
from bot.core.messages import (
    Button,
    ButtonKind,
    Channel,
    Identity,
    Inbound,
    InboundKind,
    MemberCardView,
    Reply,
)
from bot.i18n import t
from handlers.bus import answered_in
from storage.uow import UnitOfWork

QUIT_WORDS = frozenset({"/quit", "/exit"})


class _TerminalGone(Exception):
    """The terminal's output was closed (the reader of a pipe went away)."""


class EventHandler(Protocol):
    """What the console needs from the core: the bus's ``handle``."""

    async def handle(self, inbound: Inbound) -> list[Reply]: ...


class UnitOfWorkSource(Protocol):
    def __call__(self) -> UnitOfWork: ...


class ConsoleChannel:
    """Implements :class:`bot.core.ports.Outbound` for one person at a terminal.

    ``run()`` reads lines until ``/quit`` or end of input; a person the database has never
    seen (or any person, when no ``uow`` is given) is greeted with a FOLLOW event first, so
    the welcome appears as it does when someone adds the bot on LINE.
    """

    channel = Channel.CONSOLE
    capabilities = CONSOLE_CAPABILITIES

    def __init__(
        self,
        bus: EventHandler,
        clock: Clock,
        user_id: str,
        *,
        input: TextIO | None = None,
        output: TextIO | None = None,
        media_dir: Path = Path("chatcrm-media"),
        uow: UnitOfWorkSource | None = None,
        locale: str = "th",
        display_name: str | None = None,
        prompt: str = "> ",
    ) -> None:
        self.bus = bus
        self.clock = clock
        self.identity = Identity(Channel.CONSOLE, user_id)
        self._in = input or sys.stdin
        self._out = output or sys.stdout
        self.media_dir = media_dir
        self._uow = uow
        self.locale = locale
        self.display_name = display_name
        self.prompt = prompt
        #: the numbered buttons of the last replies shown; a typed number presses one
        self.choices: list[Button] = []
        #: the output is gone: nothing more can be shown in this session
        self.closed = False

    @property
    def serves_only(self) -> frozenset[str]:
        """The one user this terminal shows messages to (see the module docstring)."""
        return frozenset({self.identity.user_id})

    # -- the conversation loop ---------------------------------------------------------------

    async def run(self) -> None:
        """The session, until ``/quit``, the end of the input or a closed output."""
        try:
            await self._converse()
        except _TerminalGone:
            self._detach_output()

    async def _converse(self) -> None:
        self._say(t(self.locale, "console.hint"))
        if await self._is_new():
            await self.send(InboundKind.FOLLOW)
        else:
            self._say(t(self.locale, "console.welcome_back"))
        while True:
            line = await self._read_line()
            if line is None:
                break
            text = line.strip()
            if text.casefold() in QUIT_WORDS:
                break
            if text:
                await self.enter(text)
        self._say(t(self.locale, "console.bye"))

    async def enter(self, text: str) -> list[Reply]:
        """What happens when the person types ``text``: a number picks a shown button."""
        # isascii: other scripts' digits and superscripts pass isdigit, and int refuses some
        if text.isascii() and text.isdigit() and 1 <= int(text) <= len(self.choices):
            action = self.choices[int(text) - 1].action
            return await self.send(InboundKind.ACTION, action=action)
        return await self.send(InboundKind.TEXT, text=text)

    async def send(
        self, kind: InboundKind, *, text: str = "", action: str | None = None
    ) -> list[Reply]:
        inbound = Inbound(
            identity=self.identity,
            kind=kind,
            received_at=self.clock.now(),
            event_id=None,  # a terminal never redelivers
            text=text,
            action=action,
            display_name=self.display_name,
            language_code=self.locale,
        )
        replies = await self.bus.handle(inbound)
        answered = answered_in.get()
        if answered is not None and answered[:2] == (Channel.CONSOLE.value, self.identity.user_id):
            self.locale = answered[2]  # the terminal's own words follow the person's /language
        self.show(replies)
        return replies

    async def push(self, user_id: str, replies: Sequence[Reply]) -> None:
        """Show messages that were not replies (outbox, staff answers) in the terminal; a
        message for anyone else, or one that finds the terminal closed, is refused as
        transient, so it stays in the outbox."""
        if user_id != self.identity.user_id:
            raise TransientChannelError(f"console terminal of {self.identity.user_id!r} only")
        if self.closed:
            raise TransientChannelError("the terminal was closed")
        try:
            self.show(replies, pushed=True)
        except _TerminalGone as gone:
            self._detach_output()
            raise TransientChannelError("the terminal was closed") from gone

    async def _is_new(self) -> bool:
        if self._uow is None:
            return True
        async with self._uow() as uow:
            known = await uow.identities.get(self.identity.channel.value, self.identity.user_id)
        if known is not None and known.chosen_locale:
            self.locale = known.chosen_locale  # picked with /language in an earlier session
        return known is None

    async def _read_line(self) -> str | None:
        self._write(self.prompt, flush=True)
        # a blocking read of a real terminal must not freeze the event loop (and the scheduler)
        try:
            line = await asyncio.to_thread(self._in.readline)
        except (OSError, ValueError):  # the input was closed under us: the session is over
            return None
        if line and not self._in.isatty():
            self._write(line if line.endswith("\n") else line + "\n")  # a readable transcript
        return line if line else None

    # -- rendering ---------------------------------------------------------------------------

    def show(self, replies: Sequence[Reply], *, pushed: bool = False) -> None:
        """Print ``replies``; their numbered buttons replace the previous choices.

        A pushed message without buttons (a digest, a notice) keeps the choices on screen, as a
        chat app keeps an earlier message's buttons pressable; an answer to what the person typed
        clears them, so a number typed into a question is read as the answer."""
        if not pushed or any(_pressable(reply) for reply in replies):
            self.choices = []
        for reply in replies:
            if FORGET_FILES_META in reply.meta:
                self._forget(reply.meta[FORGET_FILES_META].split())
            if reply.card is not None:
                self._show_card(reply.card)
            if reply.text:
                self._say(reply.text)
            if reply.attachment is not None:
                path = self._save(reply.attachment.filename, reply.attachment.content)
                self._say(t(self.locale, "console.saved", path=str(path)))
            for button in reply.buttons:
                self._show_button(button)
        self._write("", flush=True)

    def _show_button(self, button: Button) -> None:
        if button.kind is ButtonKind.SHARE_CONTACT:
            self._say("  " + t(self.locale, "console.share_contact", label=button.label))
        elif button.kind is ButtonKind.URL:
            self._say("  " + t(self.locale, "console.link", label=button.label, url=button.url))
        else:
            self.choices.append(button)
            self._say(f"  [{len(self.choices)}] {button.label}")

    def _show_card(self, card: MemberCardView) -> None:
        self._say(t(self.locale, "console.card_title"))
        self._say(
            t(
                self.locale,
                "console.card_line",
                name=card.name,
                tier=card.tier,
                points=f"{card.points:,}",
                code=card.member_code,
            )
        )
        drawn = io.StringIO()
        segno.make(card.qr_payload).terminal(out=drawn, compact=True)
        self._write(drawn.getvalue())
        path = self._save(card_filename(card.member_code), card.qr_png, replace=True)
        self._say(t(self.locale, "console.saved", path=str(path)))

    def _save(self, filename: str, content: bytes, replace: bool = False) -> Path:
        """Write ``content`` under ``media_dir``; an earlier file is kept unless ``replace``."""
        self.media_dir.mkdir(parents=True, exist_ok=True)
        name = Path(filename).name or "file"  # never let a file name climb out of the folder
        path = self.media_dir / name
        counter = 2
        while path.exists() and not replace:
            path = self.media_dir / f"{Path(name).stem}-{counter}{Path(name).suffix}"
            counter += 1
        path.write_bytes(content)
        return path

    def _forget(self, filenames: Sequence[str]) -> None:
        """Delete the files saved for an erased person, numbered copies included."""
        for filename in filenames:
            name = Path(filename)
            for path in self.media_dir.glob(f"{glob.escape(name.stem)}*{name.suffix}"):
                rest = path.stem[len(name.stem) :]
                if rest == "" or (rest.startswith("-") and rest[1:].isdigit()):
                    path.unlink(missing_ok=True)

    def _say(self, text: str) -> None:
        self._write(text + "\n")

    def _write(self, text: str, *, flush: bool = False) -> None:
        if self.closed:
            raise _TerminalGone
        try:
            self._out.write(text)
            if flush:
                self._out.flush()
        except (BrokenPipeError, ValueError) as error:  # ValueError: the file was closed
            self.closed = True
            raise _TerminalGone from error

    def _detach_output(self) -> None:
        """Point a closed standard output at the null device, so that Python's own flush at
        exit does not print a BrokenPipeError (the advice of the ``signal`` module's docs)."""
        self.closed = True
        if self._out is not sys.stdout:
            return
        with contextlib.suppress(OSError, ValueError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)


def _pressable(reply: Reply) -> bool:
    """Whether ``reply`` shows buttons a typed number can press (links and contact sharing
    are shown as text)."""
    return any(
        button.kind not in (ButtonKind.SHARE_CONTACT, ButtonKind.URL) for button in reply.buttons
    )
