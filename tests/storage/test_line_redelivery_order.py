"""LINE's follow, unfollow and texts arriving out of order, through the real webhook (signed
bodies over HTTP, the fake LINE API on 127.0.0.1).

LINE redelivers an event the bot did not take (a 5xx, a timeout, the server down for a
deploy) later, with ``deliveryContext.isRedelivery`` true and its original ``timestamp``,
and a redelivered event may arrive after events that happened after it. Whether a member can
be reached (``channel_identities.reachable``: campaigns go only to reachable chats) must follow
what the person did last, not what the bot heard last.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy import select, update

from bot.bootstrap import App
from bot.channels.line import WEBHOOK_PATH, LineChannel
from bot.core.clock import FrozenClock
from bot.core.messages import Channel
from bot.web import build_web_app
from simulator.fakes.line_api import FakeLineApi
from simulator.fakes.line_webhooks import (
    follow_event,
    line_settings,
    signed_webhook,
    text_event,
    unfollow_event,
)
from storage.models import ChannelIdentity, ContactEvent
from storage.raw_session import session_of
from tests.unit.staff_support import make_member

USER = "U0a1b2c3d4e5f60718293a4b5c6d7e8f9"


class Line:
    """The bot's web app next to the fake LINE API; ``post`` delivers one signed body."""

    def __init__(self, app: App, fake: FakeLineApi, url: str) -> None:
        self.app, self.fake, self.url = app, fake, url

    async def post(self, *events: dict[str, Any]) -> int:
        body, signature = signed_webhook(list(events))
        headers = {"Content-Type": "application/json", "X-Line-Signature": signature}
        async with (
            aiohttp.ClientSession() as session,
            session.post(self.url, data=body, headers=headers) as response,
        ):
            return response.status

    async def reachable(self) -> bool:
        async with self.app.uow() as uow:
            identity = await uow.identities.get("line", USER)
        assert identity is not None
        return identity.reachable

    async def contact_events(self) -> list[str]:
        async with self.app.uow() as uow:
            rows = await session_of(uow).execute(select(ContactEvent).order_by(ContactEvent.id))
            return [row.kind for row in rows.scalars().all()]


@pytest.fixture
async def line(app: App) -> AsyncIterator[Line]:
    fake = FakeLineApi()
    fake.add_profile(USER, "Ploy", "th")
    async with fake.running():
        channel = LineChannel(line_settings(app.settings, fake), app.bus, app.uow, app.clock)
        server = TestServer(build_web_app(app, [channel]), host="127.0.0.1")
        await server.start_server()
        try:
            yield Line(app, fake, str(server.make_url("")).rstrip("/") + WEBHOOK_PATH)
        finally:
            await server.close()
            await channel.close()


async def _member_on_line(app: App) -> None:
    await make_member(app, "Ploy", "0812345678", user_id=USER, channel=Channel.LINE)


async def test_in_order_block_and_unblock_leave_the_member_reachable(
    line: Line, clock: FrozenClock
) -> None:
    """The baseline: unfollow, then follow again, delivered in order."""
    await _member_on_line(line.app)
    blocked_at = clock.now()
    clock.advance(timedelta(minutes=5))
    assert await line.post(unfollow_event(USER, blocked_at)) == 200
    assert not await line.reachable()
    token = line.fake.issue_reply_token(USER)
    assert await line.post(follow_event(USER, token, clock.now(), unblocked=True)) == 200
    assert await line.reachable()


async def test_an_unfollow_redelivered_after_the_refollow_leaves_the_member_reachable(
    line: Line, clock: FrozenClock
) -> None:
    """Ploy blocks the shop at 14:30 while the bot is down for a deploy; at 14:40 she adds it
    again (delivered: the bot is back); at 14:45 LINE redelivers the 14:30 unfollow. She
    follows the shop now: campaigns must reach her, and no "blocked" should be counted."""
    await _member_on_line(line.app)
    blocked_at = clock.now()
    clock.advance(timedelta(minutes=10))
    token = line.fake.issue_reply_token(USER)
    assert await line.post(follow_event(USER, token, clock.now(), unblocked=True)) == 200
    assert await line.reachable()
    clock.advance(timedelta(minutes=5))
    assert await line.post(unfollow_event(USER, blocked_at, redelivery=True)) == 200
    assert await line.reachable()
    assert "blocked" not in await line.contact_events()


async def test_a_text_redelivered_after_the_unfollow_leaves_the_chat_unreachable(
    line: Line, clock: FrozenClock
) -> None:
    """Ploy writes at 14:30 (the bot is down: LINE will redeliver it), blocks the shop at
    14:31; the redelivered 14:30 text arrives at 14:35. She still blocks the shop."""
    await _member_on_line(line.app)
    written_at = clock.now()
    clock.advance(timedelta(minutes=1))
    assert await line.post(unfollow_event(USER, clock.now())) == 200
    assert not await line.reachable()
    clock.advance(timedelta(minutes=4))
    late = text_event(USER, "เปิดกี่โมงคะ", None, written_at, redelivery=True)
    assert await line.post(late) == 200
    assert not await line.reachable()
    assert (await line.contact_events()).count("unblocked") == 0


async def test_a_follow_redelivered_after_the_unfollow_leaves_the_chat_unreachable(
    line: Line, clock: FrozenClock
) -> None:
    """Ploy adds the shop again at 14:30 (the bot is down), blocks it at 14:31 (delivered);
    the 14:30 follow is redelivered at 14:35. She blocks the shop."""
    await _member_on_line(line.app)
    followed_at = clock.now()
    clock.advance(timedelta(minutes=1))
    assert await line.post(unfollow_event(USER, clock.now())) == 200
    clock.advance(timedelta(minutes=4))
    late = follow_event(USER, line.fake.issue_reply_token(USER), followed_at, redelivery=True)
    assert await line.post(late) == 200
    assert not await line.reachable()
    assert await line.contact_events() == ["blocked"]


async def test_a_block_of_no_known_time_ends_with_the_next_event(
    line: Line, clock: FrozenClock
) -> None:
    """A chat marked unreachable with no time kept (before migration 0020, or by a failed
    push): the person's next text is their return, however it is stamped."""
    await _member_on_line(line.app)
    async with line.app.uow() as uow:
        arrival = await uow.identities.arrive("line", USER, clock.now())
        assert arrival is not None
        assert arrival.identity.reachability_at is None
        await session_of(uow).execute(
            update(ChannelIdentity)
            .where(ChannelIdentity.id == arrival.identity.id)
            .values(reachable=False)
        )
        await uow.commit()
    clock.advance(timedelta(minutes=1))
    text = text_event(USER, "สวัสดีค่ะ", None, clock.now() - timedelta(hours=1), redelivery=True)
    assert await line.post(text) == 200
    assert await line.reachable()
    assert await line.contact_events() == ["unblocked"]


async def test_a_follow_and_an_unfollow_redelivered_have_one_effect_each(
    line: Line, clock: FrozenClock
) -> None:
    """The same ``webhookEventId`` again, ``isRedelivery`` true, with a fresh reply token:
    one welcome back, one "blocked", one "unblocked"."""
    await _member_on_line(line.app)
    unfollow = unfollow_event(USER, clock.now())
    assert await line.post(unfollow) == 200
    assert await line.post(unfollow | {"deliveryContext": {"isRedelivery": True}}) == 200
    clock.advance(timedelta(minutes=1))
    follow = follow_event(USER, line.fake.issue_reply_token(USER), clock.now(), unblocked=True)
    assert await line.post(follow) == 200
    welcomed = len(line.fake.messages_to(USER))
    assert welcomed > 0
    again = follow | {
        "replyToken": line.fake.issue_reply_token(USER),
        "deliveryContext": {"isRedelivery": True},
    }
    assert await line.post(again) == 200
    assert len(line.fake.messages_to(USER)) == welcomed
    assert await line.reachable()
    assert await line.contact_events() == ["blocked", "unblocked"]
