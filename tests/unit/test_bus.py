"""The bus: one effect per event id, and a failing handler leaves nothing half-written."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy.exc import OperationalError

from bot.bootstrap import App
from bot.core.messages import Channel, Identity, Inbound, InboundKind
from bot.i18n import t
from storage.db import create_engine, session_factory
from storage.models import ChannelIdentity, InboxMessage
from storage.uow import UnitOfWorkFactory
from tests.unit.journey_support import count_rows


def _text(event_id: str, text: str = "hello") -> Inbound:
    return Inbound(
        identity=Identity(Channel.LINE, "U1"),
        kind=InboundKind.TEXT,
        received_at=datetime(2026, 3, 3, tzinfo=UTC),
        event_id=event_id,
        text=text,
    )


async def test_same_event_twice_has_one_effect(app: App) -> None:
    await app.bus.handle(_text("line:e1"))
    second = await app.bus.handle(_text("line:e1"))
    assert second == []
    assert await count_rows(app, ChannelIdentity) == 1


async def test_unknown_slash_command_is_answered_not_stored(app: App) -> None:
    replies = await app.bus.handle(_text("line:e2", "/nonsense"))
    assert len(replies) == 1
    assert "/help" in replies[0].text
    assert await count_rows(app, InboxMessage) == 0


async def test_two_first_events_of_one_person_at_once_create_one_identity(app: App) -> None:
    first, second = await asyncio.gather(
        app.bus.handle(_text("line:r1", "/help")), app.bus.handle(_text("line:r2", "/help"))
    )
    internal = t("th", "error.internal")
    assert internal not in [reply.text for reply in first + second]
    assert await count_rows(app, ChannelIdentity) == 1


async def test_a_failing_database_lets_the_platform_deliver_the_event_again(app: App) -> None:
    await app.engine.dispose()
    broken = create_engine("sqlite+aiosqlite:////nonexistent/dir/chatcrm.db")
    app.bus._uow = UnitOfWorkFactory(session_factory(broken))  # type: ignore[attr-defined]
    try:
        with pytest.raises(OperationalError):
            await app.bus.handle(_text("line:down", "hello"))
    finally:
        await broken.dispose()
