"""Events handled at the same time (a webhook under load) are all committed, each once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from bot.bootstrap import App
from bot.core.messages import Channel, Identity, Inbound, InboundKind
from handlers.bus import answered_in
from storage.models import ChannelIdentity, ProcessedEvent
from tests.unit.journey_support import count_rows


def _start(user: int) -> Inbound:
    return Inbound(
        identity=Identity(Channel.TELEGRAM, str(9100 + user)),
        kind=InboundKind.TEXT,
        received_at=datetime(2026, 3, 3, tzinfo=UTC),
        event_id=f"tg:{user}",
        text="/start",
        language_code="en",
    )


async def test_twenty_concurrent_events_are_all_answered_and_recorded_once(app: App) -> None:
    answers = await asyncio.gather(*(app.bus.handle(_start(user)) for user in range(20)))

    assert all(replies for replies in answers)
    assert await count_rows(app, ProcessedEvent) == 20
    assert await count_rows(app, ChannelIdentity) == 20


async def test_the_bus_tells_the_adapter_which_language_it_answered_in(app: App) -> None:
    await app.bus.handle(_start(1))

    assert answered_in.get() == ("telegram", "9101", "en")
