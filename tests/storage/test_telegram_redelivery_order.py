"""Telegram updates arriving out of order, through the real webhook (the secret header over
HTTP, the fake Bot API on 127.0.0.1).

Telegram retries an update the bot did not take (a 5xx, a timeout, the server down for a
deploy) and may deliver over several connections at once, so an update can arrive after
updates about what the person did later. Whether a member can be reached
(``channel_identities.reachable``: campaigns go only to reachable chats) must follow what the
person did last — a message's or a block's ``date`` — not what the bot heard last.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from bot.bootstrap import App
from bot.core.messages import Channel
from simulator.fakes.telegram_updates import callback_update, member_update, text_update
from storage.models import ContactEvent
from storage.raw_session import session_of
from tests.e2e.telegram_world import TelegramWorld, telegram_world
from tests.unit.staff_support import make_member

USER = 7700001
T0 = 1_796_000_000  # a Unix time: the dates below are minutes after it


@pytest.fixture
async def tg(app: App) -> AsyncIterator[TelegramWorld]:
    async with telegram_world(app) as world:
        await make_member(world.app, "Ploy", "0812345678", user_id=str(USER))
        yield world


def _dated(update: dict[str, Any], minutes: int) -> dict[str, Any]:
    """``update`` with its message's or membership change's ``date`` ``minutes`` after T0."""
    for part in ("message", "my_chat_member"):
        if part in update:
            update[part]["date"] = T0 + 60 * minutes
    return update


def _block(update_id: int, minutes: int) -> dict[str, Any]:
    return _dated(member_update(update_id, USER, old="member", new="kicked"), minutes)


def _unblock(update_id: int, minutes: int) -> dict[str, Any]:
    return _dated(member_update(update_id, USER, old="kicked", new="member"), minutes)


def _text(update_id: int, minutes: int, text: str = "เปิดกี่โมงคะ") -> dict[str, Any]:
    return _dated(text_update(update_id, USER, text), minutes)


async def _reachable(tg: TelegramWorld) -> bool:
    async with tg.app.uow() as uow:
        identity = await uow.identities.get(Channel.TELEGRAM.value, str(USER))
    assert identity is not None
    return identity.reachable


async def _contact_events(tg: TelegramWorld) -> list[str]:
    async with tg.app.uow() as uow:
        rows = await session_of(uow).execute(select(ContactEvent).order_by(ContactEvent.id))
        return [row.kind for row in rows.scalars().all()]


async def test_in_order_block_and_unblock_leave_the_member_reachable(tg: TelegramWorld) -> None:
    assert await tg.post(_block(10, 0)) == 200
    assert not await _reachable(tg)
    assert await tg.post(_unblock(11, 5)) == 200
    assert await _reachable(tg)
    assert await _contact_events(tg) == ["blocked", "unblocked"]


async def test_a_block_delivered_after_the_unblock_and_a_text_leaves_the_member_reachable(
    tg: TelegramWorld,
) -> None:
    """Ploy blocks the bot at 14:30 while it is down for a deploy; she unblocks it at 14:40
    and writes at 14:41 (delivered: the bot is back); Telegram retries the 14:30 block last.
    She has the bot: campaigns must reach her, and no block is counted."""
    assert await tg.post(_unblock(11, 10)) == 200
    assert await tg.post(_text(12, 11)) == 200
    assert await tg.post(_block(10, 0)) == 200
    assert await _reachable(tg)
    assert "blocked" not in await _contact_events(tg)


async def test_a_text_delivered_after_the_block_leaves_the_chat_unreachable(
    tg: TelegramWorld,
) -> None:
    """Ploy writes at 14:30 (the bot is down: Telegram will retry it), blocks the bot at
    14:31 (delivered); the 14:30 text arrives at 14:35. She still blocks the bot."""
    assert await tg.post(_block(11, 1)) == 200
    assert await tg.post(_text(10, 0)) == 200
    assert not await _reachable(tg)
    assert await _contact_events(tg) == ["blocked"]


async def test_a_button_pressed_after_a_block_is_her_return(tg: TelegramWorld) -> None:
    """A button press has no date of its own: it is dated when it arrives, after the block."""
    assert await tg.post(_block(10, -60 * 24)) == 200
    assert await tg.post(callback_update(11, USER, "cmd:points")) == 200
    assert await _reachable(tg)
    assert await _contact_events(tg) == ["blocked", "unblocked"]
