"""What the sending benchmarks share: a scratch shop, its members, a launched campaign, and the
real outbox dispatcher running until the campaign's rows are drained.

Members are written with SQLAlchemy Core in chunks (one transaction each), with explicit ids,
so a million take seconds rather than the ORM's minutes; every member has agreed to marketing
and has one chat account on the benchmark's channel, so a campaign to ``points >= 0`` reaches
them all. Quiet hours are switched off: the benchmarks must not depend on the hour they run.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.bootstrap import App, bootstrap
from bot.config import Settings
from bot.core.clock import SystemClock
from bot.core.messages import Channel
from bot.core.ports import Outbound
from jobs.dispatcher import OutboxDispatcher
from jobs.ratelimit import SendLimiter
from shop.campaigns.launch import segment_env, start_campaign
from shop.contact_policy import SETTINGS_KEY
from storage.db import create_engine
from storage.models import Campaign, ChannelIdentity, Member, OutboxMessage, table_of
from storage.raw_session import session_of
from storage.repositories.outbox_reads import is_pending
from wording.campaigns import CampaignWording

CHUNK: Final = 10_000
#: how late :func:`drain` may see the end of a sending it is told how to recognise (seconds)
FINE: Final = 0.005
NO_QUIET_HOURS: Final = {"quiet_hours": ["00:00", "00:00"]}
EVERYONE: Final = "points >= 0"


def chat_user(channel: str, n: int) -> str:
    """The chat account of benchmark member ``n``: a Telegram chat id or a LINE user id."""
    return str(8_000_000 + n) if channel == "telegram" else f"U{n:032x}"


def bench_settings(url: str, **changes: Any) -> Settings:
    return Settings(CHATCRM_DATABASE_URL=url, _env_file=None).model_copy(update=changes)


@asynccontextmanager
async def scratch_app(url: str, *, migrate: bool = True, **changes: Any) -> AsyncIterator[App]:
    """An app on ``url`` (migrated unless told otherwise), closed afterwards."""
    engine = create_engine(url)
    app = await bootstrap(bench_settings(url, **changes), engine=engine, migrate=migrate)
    try:
        yield app
    finally:
        await app.close()


async def add_members(engine: AsyncEngine, count: int, channel: str) -> None:
    """``count`` opted-in members (ids 1..count), each with one chat account on ``channel``."""
    now = datetime.now(UTC)
    members, identities = table_of(Member), table_of(ChannelIdentity)
    for first in range(0, count, CHUNK):
        ids = range(first + 1, min(first + CHUNK, count) + 1)
        async with engine.begin() as connection:
            await connection.execute(
                insert(members),
                [
                    {
                        "id": n,
                        "member_code": f"B{n:09d}",
                        "name": f"Member {n}",
                        "locale": "th",
                        "joined_at": now,
                        "marketing_opt_in": True,
                        "points_balance": n % 500,
                    }
                    for n in ids
                ],
            )
            await connection.execute(
                insert(identities),
                [
                    {
                        "id": n,
                        "channel": channel,
                        "user_id": chat_user(channel, n),
                        "member_id": n,
                        "reachable": True,
                        "first_seen_at": now,
                        "last_seen_at": now,
                    }
                    for n in ids
                ],
            )
    if engine.dialect.name == "postgresql":  # explicit ids: move the sequences past them
        async with engine.begin() as connection:
            for table in ("members", "channel_identities"):
                await connection.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                        f"(SELECT max(id) FROM {table}))"
                    )
                )


@dataclass(frozen=True, slots=True)
class Launch:
    campaign_id: int
    queued: int
    seconds: float


async def launch_campaign(
    app: App, message: str, *, name: str = "Bench", rule: str = EVERYONE
) -> Launch:
    """Create and start a campaign to ``rule`` (default: every member; no hold-out), as the
    owner's /send does."""
    now = app.clock.now()
    async with app.uow() as uow:
        await uow.settings.put(SETTINGS_KEY, NO_QUIET_HOURS, now)
        campaign = await uow.campaigns.add(
            Campaign(
                name=name,
                kind="campaign",
                segment_name=rule[:40],
                rule=rule,
                message=message,
                holdout_pct=0,
                status="draft",
                created_by="bench",
                created_at=now,
            )
        )
        await uow.commit()
    started = time.perf_counter()
    async with app.uow() as uow:
        env = await segment_env(uow, now, app.settings.tz)
        loaded = await uow.campaigns.get(campaign.id)
        assert loaded is not None
        result = await start_campaign(uow, loaded, env, now, wording=CampaignWording())
        await uow.commit()
    return Launch(campaign.id, result.queued, time.perf_counter() - started)


async def pending(app: App) -> bool:
    """Whether any row is pending (one index probe: counting a million pending rows twice a
    second would compete with the sending it waits for)."""
    async with app.uow() as uow:
        query = select(OutboxMessage.id).where(is_pending()).limit(1)
        return (await session_of(uow).execute(query)).first() is not None


async def statuses(app: App) -> dict[str, int]:
    async with app.uow() as uow:
        query = select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        return {status: int(n) for status, n in (await session_of(uow).execute(query)).all()}


async def drain(
    app: App,
    channels: Mapping[Channel, Outbound],
    limiter: SendLimiter,
    *,
    within: float,
    poll: float = 0.5,
    delivered: Callable[[], bool] | None = None,
) -> float:
    """Run the real dispatcher loop until no row is pending; returns the seconds it took.

    Without ``delivered`` the outbox is probed every ``poll`` seconds, so the time is rounded up
    to the next probe. With it (says, without a query, that every row's outcome is recorded)
    the end is seen within :data:`FINE`: it is asked every ``FINE``, and its answer is checked
    by one probe of the outbox (not timed; should rows still be pending, they are waited for)."""
    dispatcher = OutboxDispatcher(
        app.uow, SystemClock(), channels, limiter=limiter, poll_seconds=0.2
    )
    stop = asyncio.Event()
    started = time.perf_counter()
    task = asyncio.create_task(dispatcher.run(stop))
    try:
        while time.perf_counter() - started < within:
            if delivered is None:
                await asyncio.sleep(poll)
            elif not delivered():
                await asyncio.sleep(FINE)
                continue
            ended = time.perf_counter()
            if not await pending(app):  # with ``delivered``: a check, not part of the time
                return (ended if delivered is not None else time.perf_counter()) - started
            if delivered is not None:
                await asyncio.sleep(FINE)
        return time.perf_counter() - started
    finally:
        stop.set()
        await task


def window_max(times: list[float], seconds: float = 1.0) -> int:
    """The most events in any ``seconds``-long window (sliding, not whole clock seconds)."""
    ordered = sorted(times)
    best, start = 0, 0
    for end, moment in enumerate(ordered):
        while moment - ordered[start] >= seconds:
            start += 1
        best = max(best, end - start + 1)
    return best


def steady_rate(times: list[float]) -> float:
    """Events per second between the first and the last event (n - 1 gaps)."""
    if len(times) < 2:
        return 0.0
    ordered = sorted(times)
    return (len(ordered) - 1) / (ordered[-1] - ordered[0])
