"""The console channel: buttons as numbers, files saved, cards printed, FOLLOW for newcomers."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
import segno

from bot.channels.console import ConsoleChannel
from bot.core.clock import FrozenClock
from bot.core.errors import TransientChannelError
from bot.core.messages import (
    Attachment,
    Button,
    ButtonKind,
    Channel,
    Inbound,
    InboundKind,
    MemberCardView,
    Reply,
)
from bot.i18n import t

MENU = Reply(
    text="Join us?",
    buttons=(Button("Accept", "signup:yes"), Button("Decline", "signup:no")),
)


@dataclass
class ScriptedBus:
    """Answers every event with the next scripted replies and records what it received."""

    script: list[list[Reply]] = field(default_factory=list)
    received: list[Inbound] = field(default_factory=list)

    async def handle(self, inbound: Inbound) -> list[Reply]:
        self.received.append(inbound)
        return self.script.pop(0) if self.script else []


def _console(bus: ScriptedBus, typed: str, tmp_path: Path) -> tuple[ConsoleChannel, io.StringIO]:
    out = io.StringIO()
    channel = ConsoleChannel(
        bus,
        FrozenClock(datetime(2026, 3, 3, 7, 30, tzinfo=UTC)),
        "ploy",
        input=io.StringIO(typed),
        output=out,
        media_dir=tmp_path / "media",
        locale="en",
    )
    return channel, out


async def test_a_new_person_is_greeted_with_a_follow_event(tmp_path: Path) -> None:
    bus = ScriptedBus([[Reply(text="Welcome to the shop")]])
    channel, out = _console(bus, "", tmp_path)
    await channel.run()
    assert [event.kind for event in bus.received] == [InboundKind.FOLLOW]
    assert bus.received[0].identity.channel is Channel.CONSOLE
    assert bus.received[0].event_id is None
    assert "Welcome to the shop" in out.getvalue()


async def test_buttons_are_shown_as_numbered_choices(tmp_path: Path) -> None:
    channel, out = _console(ScriptedBus([[MENU]]), "", tmp_path)
    await channel.run()
    assert "Join us?\n  [1] Accept\n  [2] Decline\n" in out.getvalue()


async def test_typing_a_number_presses_that_button(tmp_path: Path) -> None:
    bus = ScriptedBus([[MENU], [Reply(text="ok")]])
    channel, _ = _console(bus, "2\n", tmp_path)
    await channel.run()
    pressed = bus.received[1]
    assert (pressed.kind, pressed.action) == (InboundKind.ACTION, "signup:no")


async def test_a_number_outside_the_choices_is_sent_as_text(tmp_path: Path) -> None:
    bus = ScriptedBus([[MENU], [Reply(text="ok")]])
    channel, _ = _console(bus, "0812345678\n", tmp_path)
    await channel.run()
    typed = bus.received[1]
    assert (typed.kind, typed.text) == (InboundKind.TEXT, "0812345678")


async def test_choices_are_forgotten_after_replies_without_buttons(tmp_path: Path) -> None:
    bus = ScriptedBus([[MENU], [Reply(text="noted")], []])
    channel, _ = _console(bus, "hello\n1\n", tmp_path)
    await channel.run()
    assert (bus.received[2].kind, bus.received[2].text) == (InboundKind.TEXT, "1")


async def test_share_contact_and_url_buttons_are_hints_not_choices(tmp_path: Path) -> None:
    reply = Reply(
        text="Your phone?",
        buttons=(
            Button("Share my phone", kind=ButtonKind.SHARE_CONTACT),
            Button("Privacy notice", kind=ButtonKind.URL, url="https://shop.example/pdpa"),
            Button("Skip", "signup:skip"),
        ),
    )
    channel, out = _console(ScriptedBus([[reply]]), "", tmp_path)
    await channel.run()
    text = out.getvalue()
    assert "Share my phone: just type your phone number" in text
    assert "Privacy notice: https://shop.example/pdpa" in text
    assert "[1] Skip" in text
    assert [button.label for button in channel.choices] == ["Skip"]


async def test_quit_ends_the_chat_without_sending_it(tmp_path: Path) -> None:
    bus = ScriptedBus([[Reply(text="hi")]])
    channel, out = _console(bus, "/quit\nafter quit\n", tmp_path)
    await channel.run()
    assert len(bus.received) == 1
    assert out.getvalue().rstrip().endswith("See you soon!")


async def test_an_attachment_is_saved_and_its_path_printed(tmp_path: Path) -> None:
    export = Attachment("../../mydata.json", b'{"name": "Ploy"}', "application/json")
    bus = ScriptedBus([[], [Reply(text="Your data", attachment=export)]])
    channel, out = _console(bus, "/mydata\n", tmp_path)
    await channel.run()
    saved = tmp_path / "media" / "mydata.json"
    assert saved.read_bytes() == b'{"name": "Ploy"}'
    assert f"Saved to {saved}" in out.getvalue()


async def test_a_second_file_with_the_same_name_does_not_overwrite_the_first(
    tmp_path: Path,
) -> None:
    image = Attachment("chart.png", b"one", "image/png")
    again = Attachment("chart.png", b"two", "image/png")
    bus = ScriptedBus([[], [Reply(attachment=image)], [Reply(attachment=again)]])
    channel, _ = _console(bus, "a\nb\n", tmp_path)
    await channel.run()
    assert (tmp_path / "media" / "chart.png").read_bytes() == b"one"
    assert (tmp_path / "media" / "chart-2.png").read_bytes() == b"two"


async def test_a_member_card_is_printed_with_a_terminal_qr_and_saved_as_png(
    tmp_path: Path,
) -> None:
    qr = segno.make("chatcrm:M:ABCD2345")
    png = io.BytesIO()
    qr.save(png, kind="png")
    card = MemberCardView("Ploy", "ABCD2345", "Gold", 1250, "chatcrm:M:ABCD2345", png.getvalue())
    channel, out = _console(ScriptedBus([[], [Reply(card=card)]]), "/card\n", tmp_path)
    await channel.run()
    text = out.getvalue()
    assert "Ploy · Gold tier · 1,250 points · member code ABCD2345" in text
    assert "▀" in text or "▄" in text  # the QR drawn with half blocks
    assert (tmp_path / "media" / "card-ABCD2345.png").read_bytes() == png.getvalue()


async def test_push_prints_messages_that_were_not_replies(tmp_path: Path) -> None:
    channel, out = _console(ScriptedBus(), "", tmp_path)
    await channel.push("ploy", [Reply(text="Happy birthday!", buttons=(MENU.buttons[0],))])
    assert "Happy birthday!\n  [1] Accept" in out.getvalue()


async def test_a_pushed_notice_without_buttons_keeps_the_choices(tmp_path: Path) -> None:
    """An approval request followed by the daily digest: typing 1 still approves, as the
    request's buttons stay pressable in a chat app."""
    channel, _ = _console(ScriptedBus(), "", tmp_path)
    await channel.push("ploy", [MENU])
    await channel.push("ploy", [Reply(text="Yesterday: 0 sales")])
    assert [button.label for button in channel.choices] == ["Accept", "Decline"]
    await channel.push("ploy", [Reply(text="Pick", buttons=(Button("Other", "x:1"),))])
    assert [button.label for button in channel.choices] == ["Other"]


async def test_push_refuses_messages_for_another_console_user(tmp_path: Path) -> None:
    """Issue 14 item 7: a terminal is one person's; the row stays in the outbox (transient)."""
    channel, out = _console(ScriptedBus(), "", tmp_path)
    assert channel.serves_only == frozenset({"ploy"})
    with pytest.raises(TransientChannelError):
        await channel.push("owner", [Reply(text="Approve this sale?")])
    assert "Approve" not in out.getvalue()


class ClosedPipe(io.StringIO):
    """An output whose reader went away after ``room`` writes (``chatcrm chat | head``)."""

    def __init__(self, room: int) -> None:
        super().__init__()
        self.room = room

    def write(self, text: str) -> int:
        if self.room <= 0:
            raise BrokenPipeError(32, "Broken pipe")
        self.room -= 1
        return super().write(text)


async def test_a_closed_output_ends_the_session_quietly(tmp_path: Path) -> None:
    bus = ScriptedBus([[Reply(text="Welcome")], [Reply(text="one")], [Reply(text="two")]])
    out = ClosedPipe(room=3)
    channel = ConsoleChannel(
        bus,
        FrozenClock(datetime(2026, 3, 3, 7, 30, tzinfo=UTC)),
        "ploy",
        input=io.StringIO("a\nb\nc\n"),
        output=out,
        media_dir=tmp_path,
        locale="en",
    )
    await channel.run()  # no BrokenPipeError
    assert channel.closed
    assert len(bus.received) < 4  # it stopped reading once nobody could see the answers
    with pytest.raises(TransientChannelError):  # a message for it waits in the outbox
        await channel.push("ploy", [Reply(text="later")])


class ClosedInput(io.StringIO):
    def readline(self, size: int | None = -1) -> str:
        raise ValueError("I/O operation on closed file.")


async def test_a_closed_input_ends_the_session_quietly(tmp_path: Path) -> None:
    out = io.StringIO()
    channel = ConsoleChannel(
        ScriptedBus(),
        FrozenClock(datetime(2026, 3, 3, 7, 30, tzinfo=UTC)),
        "ploy",
        input=ClosedInput(),
        output=out,
        media_dir=tmp_path,
        locale="en",
    )
    await channel.run()
    assert out.getvalue().endswith(t("en", "console.bye") + "\n")


async def test_a_superscript_or_thai_digit_is_sent_as_text(tmp_path: Path) -> None:
    """``²`` and ``๒`` pass ``str.isdigit``; neither picks a choice (``int("²")`` fails)."""
    bus = ScriptedBus([[MENU], [Reply(text="ok")], [Reply(text="ok")]])
    channel, _ = _console(bus, "\u00b2\n\u0e52\n", tmp_path)
    await channel.run()
    typed = [(event.kind, event.text) for event in bus.received[1:]]
    assert typed == [(InboundKind.TEXT, "\u00b2"), (InboundKind.TEXT, "\u0e52")]
