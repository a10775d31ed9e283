"""The LINE adapter's own words (alt text, card labels) on a queued message are in the language
its reader picked with /language, even when they are not a member (a staff account)."""

from __future__ import annotations

import asyncio

from bot.bootstrap import App
from bot.channels.line import LineChannel
from bot.config import Settings
from bot.core.messages import Button, Channel, Reply
from bot.core.wire import replies_to_payload
from bot.i18n import t
from jobs.dispatcher import OutboxDispatcher
from simulator.fakes import line_api
from simulator.fakes.line_api import FakeLineApi
from tests.chat import Chat

USER = "U" + "e" * 32


async def test_a_push_to_a_non_member_uses_the_language_they_chose(
    app: App, settings: Settings
) -> None:
    chat = Chat(app, user_id=USER, channel=Channel.LINE, language_code="th")
    # in a task of its own, as a webhook is: the bus's "answered in" note stays with that event
    await asyncio.create_task(chat.press("lang:en"))
    fake = FakeLineApi()
    async with fake.running() as base:
        line_settings = settings.model_copy(
            update={
                "line_channel_secret": line_api.CHANNEL_SECRET,
                "line_channel_access_token": line_api.ACCESS_TOKEN,
                "line_api_base": base,
                "line_data_api_base": base,
            }
        )
        channel = LineChannel(line_settings, app.bus, app.uow, app.clock)
        try:
            async with app.uow() as uow:
                payload = replies_to_payload([Reply(buttons=(Button("OK", "x:1"),))])
                await uow.outbox.enqueue("k", "line", USER, payload, app.clock.now())
                await uow.commit()
            await OutboxDispatcher(app.uow, app.clock, {Channel.LINE: channel}).drain_once()
        finally:
            await channel.close()
    [message] = fake.messages_to(USER)
    assert message["altText"] == t("en", "line.choose")
