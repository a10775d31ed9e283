"""The composition root: the one place that builds engine, unit of work, router and bus."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Settings
from bot.core.clock import Clock, SystemClock
from handlers.app import build_router
from handlers.bus import Bus
from handlers.router import Router
from storage.db import create_engine, session_factory
from storage.migrate import upgrade
from storage.uow import UnitOfWorkFactory


@dataclass
class App:
    settings: Settings
    clock: Clock
    engine: AsyncEngine
    uow: UnitOfWorkFactory
    bus: Bus[Router]

    async def close(self) -> None:
        await self.engine.dispose()


async def bootstrap(
    settings: Settings | None = None,
    clock: Clock | None = None,
    engine: AsyncEngine | None = None,
    migrate: bool = True,
) -> App:
    settings = settings or Settings()
    clock = clock or SystemClock()
    own_engine = engine is None
    engine = engine or create_engine(
        settings.database_url, sqlite_synchronous=settings.sqlite_synchronous
    )
    if migrate:
        try:
            await upgrade(engine)
        except BaseException:
            if own_engine:  # a database that cannot be opened leaves no pool behind
                await engine.dispose()
            raise
    uow = UnitOfWorkFactory(session_factory(engine))
    bus = Bus(uow, build_router(), clock, settings)
    return App(settings=settings, clock=clock, engine=engine, uow=uow, bus=bus)
