"""Helpers for the inbox's edge tests: free text sent with a chosen event id, everything the
inbox wrote read back, and two events made to meet inside their transactions on PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from bot.bootstrap import App
from bot.core.messages import Inbound, InboundKind, Reply
from storage.models import InboxMessage, InboxThread, OutboxMessage
from storage.raw_session import session_of
from tests.chat import Chat
from tests.unit.staff_support import member_chat, staff_chat


async def say_as(chat: Chat, text: str, event_id: str) -> list[Reply]:
    """``text`` sent in an event whose id is ``event_id`` (a redelivery reuses it)."""
    inbound = Inbound(
        identity=chat.identity,
        kind=InboundKind.TEXT,
        received_at=chat.app.clock.now(),
        event_id=event_id,
        display_name=chat.display_name,
        language_code=chat.language_code,
        text=text,
    )
    chat.last = await chat.app.bus.handle(inbound)
    return chat.last


@dataclass(frozen=True)
class Box:
    """Every thread, message and staff alert, in the order written."""

    #: (id, identity id, member id, status) of every thread
    threads: list[tuple[int, int, int | None, str]]
    #: (thread id, direction, text) of every message
    messages: list[tuple[int | None, str, str]]
    #: dedupe keys of the staff alerts (``inbox:<thread>:a…``; not the answers to the customer)
    alerts: list[str]

    def texts(self, thread_id: int) -> list[str]:
        return [text for tid, _, text in self.messages if tid == thread_id]

    @property
    def open_threads(self) -> list[int]:
        return [tid for tid, _, _, status in self.threads if status == "open"]


async def box(app: App) -> Box:
    async with app.uow() as uow:
        session = session_of(uow)
        threads = (await session.execute(select(InboxThread).order_by(InboxThread.id))).scalars()
        thread_rows = [(t.id, t.identity_id, t.member_id, t.status) for t in threads]
        messages = (await session.execute(select(InboxMessage).order_by(InboxMessage.id))).scalars()
        message_rows = [(m.thread_id, m.direction, m.text) for m in messages]
        keys = (
            await session.execute(
                select(OutboxMessage.dedupe_key)
                .where(OutboxMessage.dedupe_key.startswith("inbox:"))
                .order_by(OutboxMessage.id)
            )
        ).scalars()
        return Box(thread_rows, message_rows, [key for key in keys if ":a" in key])


def text_of(replies: list[Reply]) -> str:
    return "\n".join(reply.text for reply in replies)


async def owner_and_ploy(app: App) -> tuple[Chat, Chat]:
    """An owner (``own1``) and Ploy, a member on Telegram (``m1``): their chats."""
    owner = await staff_chat(app, "own1", "owner")
    chat, _ = await member_chat(app, "Ploy", "0811111111", user_id="m1")
    return owner, chat
