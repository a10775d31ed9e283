"""The real scheduler's days on the frozen clock: every periodic job ticked each half hour, the
dispatcher draining after each tick, and what reached each member's phone, and when."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.bootstrap import App
from bot.core.clock import FrozenClock
from bot.core.messages import Channel
from jobs.dispatcher import OutboxDispatcher
from jobs.scheduler import tick
from tests.domain.automation_support import BANGKOK
from tests.unit.dispatcher_support import FakeTelegram

STEP = timedelta(minutes=30)


async def phones_until(app: App, clock: FrozenClock, until: datetime) -> dict[str, list[datetime]]:
    """Tick every job and drain the outbox each :data:`STEP` until ``until``; each push's
    user id and shop time."""
    received: dict[str, list[datetime]] = {}
    telegram = FakeTelegram()
    dispatcher = OutboxDispatcher(app.uow, app.clock, {Channel.TELEGRAM: telegram})
    while clock.now() < until:
        await tick(app)
        await dispatcher.drain_once()
        for push in telegram.pushes:
            received.setdefault(push.user_id, []).append(clock.now().astimezone(BANGKOK))
        telegram.pushes.clear()
        clock.advance(STEP)
    return received
