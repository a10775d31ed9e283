"""Members the ingest and write-path benchmarks talk as: signed up, linked to a chat account.

Every benchmark user is a member with both consents, a few points and one Telegram and one
LINE identity, so a ``/points`` from them goes through the whole member path of the bus.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Iterator
from datetime import date
from typing import Final

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy.engine import make_url

from bot.bootstrap import App
from storage.db import is_sqlite
from storage.models import Member

#: Telegram user ids of the benchmark members are TELEGRAM_BASE + n
TELEGRAM_BASE: Final = 7_100_000


def telegram_user(n: int) -> int:
    return TELEGRAM_BASE + n


def line_user(n: int) -> str:
    # LINE user ids are "U" + 32 hex digits
    return f"U{n:032x}"


async def seed_members(app: App, count: int) -> None:
    """Add ``count`` members (in one transaction) with their Telegram and LINE identities."""
    now = app.clock.now()
    async with app.uow() as uow:
        for n in range(count):
            member = await uow.members.add(
                Member(
                    name=f"Bench {n}",
                    phone=f"+6681{n:07d}",
                    birthday=date(1990, 1 + n % 12, 1 + n % 28),
                    locale="th",
                    joined_at=now,
                    marketing_opt_in=True,
                    phone_verified=False,
                    points_balance=0,
                )
            )
            for purpose in ("membership", "marketing"):
                await uow.members.record_consent(member.id, purpose, True, "bench", "telegram", now)
            for channel, user_id in (("telegram", str(telegram_user(n))), ("line", line_user(n))):
                identity = await uow.identities.touch(channel, user_id, now, f"Bench {n}", "th")
                identity.member_id = member.id
            await uow.points.append(member.id, 10 + n, "welcome", now)
        await uow.commit()


@contextlib.contextmanager
def scratch_database(url: str) -> Iterator[str]:
    """SQLite: ``url`` as it is. PostgreSQL: a new database next to the one ``url`` names,
    created for this run and dropped after it (with whatever connections are left)."""
    if is_sqlite(url):
        yield url
        return
    name = f"chatcrm_ingest_{os.getpid()}"
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)

    async def admin(statement: str) -> None:
        connection = await asyncpg.connect(dsn)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
