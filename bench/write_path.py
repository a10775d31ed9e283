"""Inbound write path: committed events/s through the unit of work ÷ the raw driver.

``python -m bench.write_path [--quick] [--pg URL]``. On SQLite (a scratch file) and on
PostgreSQL (a scratch schema the bench creates and drops; ``--pg``, default
``CHATCRM_BENCH_PG_URL`` or the local test server) it runs two races, one event after another:

- **the issue's target** — *unit of work*: a :class:`storage.uow.UnitOfWork` that records one
  event id (``uow.events.first_time``, the call the bus makes) and commits; *raw*: the bare
  driver (aiosqlite / asyncpg, one connection) inserting the same row and committing;
- **the whole event** (reported as well) — *ours*: :meth:`handlers.bus.Bus.handle` — unit of
  work, the event id recorded (duplicates skipped), identity touched, member, staff record and
  conversation state loaded, a handler that credits one point (member balance + ledger row),
  commit; *raw*: the bare driver doing the same writes — event id insert, identity
  ``last_seen_at`` update, balance update, ledger insert — and commit, without the reads.

Target: ours ÷ raw >= 0.5 on each database, for each race. Runs alternate ours and raw, best
round counts.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import aiosqlite
import asyncpg  # type: ignore[import-untyped]

from bench.ingest_seed import seed_members, telegram_user
from bench.report import Target, publish
from bot.bootstrap import App, bootstrap
from bot.config import Settings
from bot.core.messages import Channel, Identity, Inbound, InboundKind, Reply
from handlers.context import Context
from handlers.router import Command, Router
from storage.db import create_engine

USERS: Final = 200
DEFAULT_PG: Final = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


async def credit_one_point(ctx: Context) -> list[Reply]:
    """The benchmark's handler: one point to the member writing (a balance and a ledger row)."""
    assert ctx.member is not None
    await ctx.uow.points.append(ctx.member.id, 1, "bench", ctx.now)
    return [Reply(text="ok")]


def bench_router() -> Router:
    router = Router()
    router.command(Command("credit", credit_one_point))
    return router


async def ours(app: App, first: int, count: int) -> None:
    for n in range(count):
        user = str(telegram_user(n % USERS))
        await app.bus.handle(
            Inbound(
                identity=Identity(Channel.TELEGRAM, user),
                kind=InboundKind.TEXT,
                received_at=app.clock.now(),
                event_id=f"wp:{first + n}",
                text="/credit",
            )
        )


async def uow_event(app: App, first: int, count: int) -> None:
    for n in range(count):
        async with app.uow() as uow:
            await uow.events.first_time(f"uw:{first + n}", app.clock.now())
            await uow.commit()


async def raw_event_sqlite(db: aiosqlite.Connection, first: int, count: int) -> None:
    for n in range(count):
        now = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")
        await db.execute("BEGIN IMMEDIATE")
        await db.execute(SQLITE_WRITES[0], (f"rw:{first + n}", now))
        await db.execute("COMMIT")


async def raw_event_postgres(connection: Any, first: int, count: int) -> None:
    for n in range(count):
        async with connection.transaction():
            await connection.execute(POSTGRES_WRITES[0], f"rw:{first + n}", datetime.now(UTC))


#: the writes of one event, as the raw driver sends them (SQLite's ``?``, PostgreSQL's ``$n``)
SQLITE_WRITES: Final = (
    "INSERT INTO processed_events (event_key, processed_at) VALUES (?, ?)",
    "UPDATE channel_identities SET last_seen_at = ? WHERE channel = 'telegram' AND user_id = ?",
    "UPDATE members SET points_balance = points_balance + 1 WHERE id = ?",
    "INSERT INTO points_ledger (member_id, delta, reason, earned_at, created_at) "
    "VALUES (?, 1, 'bench', ?, ?)",
)
POSTGRES_WRITES: Final = (
    "INSERT INTO processed_events (event_key, processed_at) VALUES ($1, $2)",
    "UPDATE channel_identities SET last_seen_at = $1 WHERE channel = 'telegram' AND user_id = $2",
    "UPDATE members SET points_balance = points_balance + 1 WHERE id = $1",
    "INSERT INTO points_ledger (member_id, delta, reason, earned_at, created_at) "
    "VALUES ($1, 1, 'bench', $2, $3)",
)


async def raw_sqlite(db: aiosqlite.Connection, members: list[int], first: int, count: int) -> None:
    insert_event, touch, balance, ledger = SQLITE_WRITES
    for n in range(count):
        now = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")
        await db.execute("BEGIN IMMEDIATE")
        await db.execute(insert_event, (f"raw:{first + n}", now))
        await db.execute(touch, (now, str(telegram_user(n % USERS))))
        await db.execute(balance, (members[n % USERS],))
        await db.execute(ledger, (members[n % USERS], now, now))
        await db.execute("COMMIT")


async def raw_postgres(connection: Any, members: list[int], first: int, count: int) -> None:
    insert_event, touch, balance, ledger = POSTGRES_WRITES
    for n in range(count):
        now = datetime.now(UTC)
        async with connection.transaction():
            await connection.execute(insert_event, f"raw:{first + n}", now)
            await connection.execute(touch, now, str(telegram_user(n % USERS)))
            await connection.execute(balance, members[n % USERS])
            await connection.execute(ledger, members[n % USERS], now, now)


async def raw_connection(url: str, schema: str, path: Path) -> Any:
    """The raw driver's one connection, opened before the races (ours reuses a warm pool, so the
    baseline's connect is not timed either)."""
    if url.startswith("postgresql"):
        dsn = url.replace("postgresql+asyncpg", "postgresql")
        return await asyncpg.connect(dsn, server_settings={"search_path": schema})
    db = await aiosqlite.connect(path, isolation_level=None)
    await db.execute("PRAGMA synchronous=NORMAL")  # as our engine sets it (WAL is on already)
    return db


async def member_ids(app: App, users: int) -> list[int]:
    ids = []
    async with app.uow() as uow:
        for n in range(users):
            identity = await uow.identities.get("telegram", str(telegram_user(n)))
            assert identity is not None
            assert identity.member_id is not None
            ids.append(identity.member_id)
    return ids


async def race(
    runs: dict[str, Callable[[int, int], Awaitable[None]]], count: int, rounds: int
) -> dict[str, float]:
    """Best events/s of each run over ``rounds`` alternating rounds (after one warm-up)."""
    best = dict.fromkeys(runs, 0.0)
    first = 0
    for round_ in range(rounds + 1):
        for name, run in runs.items():
            started = time.perf_counter()
            await run(first, count)
            rate = count / (time.perf_counter() - started)
            first += count
            if round_:  # round 0 warms caches, statement caches and the pool
                best[name] = max(best[name], rate)
    return best


Runs = dict[str, Callable[[int, int], Awaitable[None]]]


async def on_database(
    url: str, count: int, rounds: int, scratch: Path
) -> tuple[dict[str, float], dict[str, float]]:
    """(best events/s of the event-id race, of the whole-event race) on one database."""
    postgres = url.startswith("postgresql")
    schema = f"chatcrm_bench_{os.getpid()}"
    dsn = url.replace("postgresql+asyncpg", "postgresql")
    if postgres:
        admin = await asyncpg.connect(dsn)
        await admin.execute(f'CREATE SCHEMA "{schema}"')
        engine = create_engine(url, connect_args={"server_settings": {"search_path": schema}})
    else:
        engine = create_engine(url)
    settings = Settings(CHATCRM_DATABASE_URL=url, _env_file=None)
    app = await bootstrap(settings, engine=engine)  # migrates the scratch database
    try:
        # event n comes from user n % USERS: a round shorter than USERS (the quick form) needs
        # only its first ``count`` users, and seeding is most of a quick run
        users = min(USERS, count)
        await seed_members(app, users)
        app.bus.router = bench_router()
        members = await member_ids(app, users)
        raw = await raw_connection(url, schema, scratch / "write.db")
        event_runs: Runs = {
            "uow": lambda first, n: uow_event(app, first, n),
            "raw": (
                (lambda first, n: raw_event_postgres(raw, first, n))
                if postgres
                else (lambda first, n: raw_event_sqlite(raw, first, n))
            ),
        }
        whole_runs: Runs = {
            "ours": lambda first, n: ours(app, first, n),
            "raw": (
                (lambda first, n: raw_postgres(raw, members, first, n))
                if postgres
                else (lambda first, n: raw_sqlite(raw, members, first, n))
            ),
        }
        try:
            return await race(event_runs, count, rounds), await race(whole_runs, count, rounds)
        finally:
            await raw.close()
    finally:
        await app.close()
        if postgres:
            await admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
            await admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short runs (CI)")
    parser.add_argument("--pg", default=os.environ.get("CHATCRM_BENCH_PG_URL", DEFAULT_PG))
    parser.add_argument("--events", type=int, help="events a round (default 1500, quick 50)")
    parser.add_argument("--rounds", type=int, help="rounds after the warm-up (default 3, quick 1)")
    args = parser.parse_args()
    count, rounds = (50, 1) if args.quick else (1500, 3)
    count, rounds = args.events or count, args.rounds or rounds
    targets: list[Target] = []
    extra: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="chatcrm-write-") as folder:
        scratch = Path(folder)
        databases = {"SQLite": f"sqlite+aiosqlite:///{scratch / 'write.db'}", "PostgreSQL": args.pg}
        for name, url in databases.items():
            try:
                event, whole = asyncio.run(on_database(url, count, rounds, scratch))
            except OSError as error:  # PostgreSQL not running here: say so, do not fail
                print(f"  {name}: not measured ({error})")
                continue
            extra[name] = {"event_id": event, "whole_event": whole}
            note = f"{count} events a round, one at a time, best of {rounds}"
            targets.append(
                Target(
                    f"{name} write path: committed events/s unit of work ÷ raw driver",
                    event["uow"],
                    event["raw"],
                    "events/s",
                    0.5,
                    note=f"event id insert + commit; {note}",
                )
            )
            targets.append(
                Target(
                    f"{name} whole event: events/s Bus.handle ÷ raw driver writes",
                    whole["ours"],
                    whole["raw"],
                    "events/s",
                    0.5,
                    note=note,
                )
            )
    publish("write_path", targets, quick=args.quick, extra=extra)


if __name__ == "__main__":
    main()
