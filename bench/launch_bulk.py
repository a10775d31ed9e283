"""Campaign launch ÷ a bulk insert of the same rows, on SQLite and PostgreSQL.

``python -m bench.launch_bulk [--quick] [--members N] [--database-url URL ...]`` (default: a
SQLite file; a PostgreSQL URL must name a scratch database: its members are replaced). A shop
(N members, each opted in with one LINE account; 100,000, quick 5,000) gets, in paired rounds
(3, quick 2; the order rotates each round):

- **launch**: the product's ``start_campaign`` to every member as the owner's ``/send`` runs it
  (segment, contact policy per member, hold-out draw, the audience snapshot in
  ``campaign_members`` and one outbox row per recipient), committed;
- **INSERT … SELECT**: the same rows (same tables, same columns, same payload text, a random
  retry key each) written by two set-based statements straight from ``members`` joined with
  ``channel_identities``, committed — the database's own floor, no policy at all;
- **driver bulk**: the member/account pairs read, the same rows built in Python and written
  through the driver's fastest path (``COPY`` on PostgreSQL, ``executemany`` on SQLite,
  :func:`storage.bulk.bulk_insert`), committed.

After each round its rows are deleted (outside the timing; on PostgreSQL then
``VACUUM ANALYZE``, as autovacuum would between two launches). Each figure is members a second,
min / median / max over the rounds; each ratio (launch ÷ baseline, target ≥ 0.5) is taken
within a round.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from sqlalchemy import String, cast, delete, func, insert, literal, select, text, true
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.data_shop import reachable
from bench.report import Target, publish
from bench.sending_support import add_members, launch_campaign, scratch_app
from bot.bootstrap import App
from storage.bulk import bulk_insert
from storage.db import is_sqlite
from storage.models import (
    CampaignMember,
    ChannelIdentity,
    Member,
    OutboxMessage,
    table_of,
)

MESSAGE: Final = "Weekday afternoons: 1-get-1 milk tea, Mon-Fri 14-16"


async def _payload(app: App, campaign_id: int) -> Any:
    """The payload the launch wrote (every recipient's is the same text)."""
    async with app.engine.connect() as connection:
        query = select(OutboxMessage.payload).where(
            OutboxMessage.dedupe_key == f"cmp:{campaign_id}:1"
        )
        return (await connection.execute(query)).scalar_one()


async def _reset(engine: AsyncEngine, campaign_id: int) -> None:
    async with engine.begin() as connection:
        await connection.execute(delete(table_of(OutboxMessage)))
        await connection.execute(
            delete(table_of(CampaignMember)).where(CampaignMember.campaign_id == campaign_id)
        )
    await _vacuum(engine)


async def _vacuum(engine: AsyncEngine) -> None:
    """PostgreSQL: dead rows of the last round gone and statistics fresh, as autovacuum would
    leave them between two launches (each round starts from the same state)."""
    if engine.dialect.name != "postgresql":
        return
    async with engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        await autocommit.execute(text("VACUUM ANALYZE"))


def _retry_key(engine: AsyncEngine) -> Any:
    if engine.dialect.name == "postgresql":
        return cast(func.gen_random_uuid(), String)
    return func.lower(func.hex(func.randomblob(16)))


async def insert_select(engine: AsyncEngine, campaign_id: int, payload: Any, now: datetime) -> None:
    members, identities = table_of(Member), table_of(ChannelIdentity)
    audience, box = table_of(CampaignMember), table_of(OutboxMessage)
    key = literal(f"cmp:{campaign_id}:") + cast(members.c.id, String)
    source = members.join(identities, identities.c.member_id == members.c.id)
    async with engine.begin() as connection:
        await connection.execute(
            insert(audience).from_select(
                ["campaign_id", "member_id", "group", "channel", "outbox_key"],
                select(
                    literal(campaign_id),
                    members.c.id,
                    literal("recipient"),
                    identities.c.channel,
                    key,
                ).select_from(source),
            )
        )
        columns = ["dedupe_key", "channel", "user_id", "member_id", "promotional", "payload"]
        columns += ["status", "attempts", "retry_key", "not_before", "created_at", "priority"]
        await connection.execute(
            insert(box).from_select(
                columns,
                select(
                    key,
                    identities.c.channel,
                    identities.c.user_id,
                    members.c.id,
                    true(),
                    literal(payload, box.c.payload.type),
                    literal("pending"),
                    literal(0),
                    _retry_key(engine),
                    literal(now, box.c.not_before.type),
                    literal(now, box.c.created_at.type),
                    literal(0),
                ).select_from(source),
            )
        )


async def driver_bulk(engine: AsyncEngine, campaign_id: int, payload: Any, now: datetime) -> None:
    async with engine.begin() as connection:
        query = select(ChannelIdentity.member_id, ChannelIdentity.channel, ChannelIdentity.user_id)
        pairs = (await connection.execute(query.order_by(ChannelIdentity.member_id))).all()
        keys = {member: f"cmp:{campaign_id}:{member}" for member, _, _ in pairs}
        audience = [
            {
                "campaign_id": campaign_id,
                "member_id": member,
                "group": "recipient",
                "channel": channel,
                "excluded": None,
                "outbox_key": keys[member],
                "enrolled_at": None,
            }
            for member, channel, _ in pairs
        ]
        await bulk_insert(connection, table_of(CampaignMember), audience)
        outbox = [
            {
                "dedupe_key": keys[member],
                "channel": channel,
                "user_id": user,
                "member_id": member,
                "promotional": True,
                "payload": payload,
                "status": "pending",
                "attempts": 0,
                "retry_key": str(uuid.uuid4()),
                "not_before": now,
                "created_at": now,
            }
            for member, channel, user in pairs
        ]
        await bulk_insert(connection, table_of(OutboxMessage), outbox)


async def _count(engine: AsyncEngine) -> tuple[int, int]:
    async with engine.connect() as connection:
        rows = (await connection.execute(select(func.count()).select_from(OutboxMessage))).scalar()
        snapshot = await connection.execute(select(func.count()).select_from(CampaignMember))
        return int(rows or 0), int(snapshot.scalar() or 0)


async def rounds(url: str, members: int, count: int) -> dict[str, list[float]]:
    seconds: dict[str, list[float]] = {"launch": [], "insert_select": [], "driver_bulk": []}
    async with scratch_app(url) as app:
        if app.engine.dialect.name == "postgresql":
            async with app.engine.begin() as connection:
                await connection.execute(text("TRUNCATE members, channel_identities CASCADE"))
        await add_members(app.engine, members, "line")
        await _vacuum(app.engine)
        first = await launch_campaign(app, MESSAGE, name="Warm-up")  # and the payload it writes
        payload, campaign_id = await _payload(app, first.campaign_id), first.campaign_id
        await _reset(app.engine, campaign_id)
        now = app.clock.now()

        async def launch() -> float:
            # timed from start_campaign to its commit, as the baselines time their statements;
            # creating the draft before it and deleting the rows after it are not the launch
            launched = await launch_campaign(app, MESSAGE)
            assert launched.queued == members
            await _reset(app.engine, launched.campaign_id)
            return launched.seconds

        async def timed(run: Callable[[], Awaitable[None]]) -> float:
            started = time.perf_counter()
            await run()
            elapsed = time.perf_counter() - started
            assert await _count(app.engine) == (members, members)
            await _reset(app.engine, campaign_id)
            return elapsed

        runs: dict[str, Callable[[], Awaitable[float]]] = {
            "launch": launch,
            "insert_select": lambda: timed(
                lambda: insert_select(app.engine, campaign_id, payload, now)
            ),
            "driver_bulk": lambda: timed(
                lambda: driver_bulk(app.engine, campaign_id, payload, now)
            ),
        }
        names = list(runs)
        for index in range(count):
            for name in names[index % 3 :] + names[: index % 3]:
                seconds[name].append(await runs[name]())
    return seconds


def _spread(values: list[float]) -> str:
    return " / ".join(f"{v:,.0f}" for v in (min(values), statistics.median(values), max(values)))


def targets(dialect: str, members: int, seconds: dict[str, list[float]]) -> list[Target]:
    rates = {name: [members / s for s in values] for name, values in seconds.items()}
    found = []
    for baseline, label in (
        ("insert_select", "INSERT … SELECT of the same rows"),
        ("driver_bulk", "driver bulk (COPY / executemany) of the same rows"),
    ):
        ratios = [b / a for a, b in zip(seconds["launch"], seconds[baseline], strict=True)]
        found.append(
            Target(
                f"{dialect}: launch ÷ {label}",
                statistics.median(rates["launch"]),
                statistics.median(rates[baseline]),
                "members/s",
                0.5,
                note=(
                    f"ratio per round min/median/max {min(ratios):.3f} / "
                    f"{statistics.median(ratios):.3f} / {max(ratios):.3f}; members/s launch "
                    f"{_spread(rates['launch'])}, baseline {_spread(rates[baseline])}"
                ),
            )
        )
    return found


async def main_async(args: argparse.Namespace) -> list[Target]:
    found: list[Target] = []
    with tempfile.TemporaryDirectory(prefix="chatcrm-launch-") as folder:
        urls = args.database_url or [f"sqlite+aiosqlite:///{Path(folder) / 'launch.db'}"]
        for url in urls:
            if not await reachable(url):
                print(f"  skipped (not reachable): {url}")
                continue
            dialect = "SQLite" if is_sqlite(url) else "PostgreSQL"
            seconds = await rounds(url, args.members, args.rounds)
            found += targets(dialect, args.members, seconds)
            print(f"  {dialect}: seconds {seconds}", flush=True)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5,000 members, 2 rounds (CI)")
    parser.add_argument("--members", type=int)
    parser.add_argument("--rounds", type=int)
    parser.add_argument("--database-url", action="append", help="repeat for several")
    args = parser.parse_args()
    args.members = args.members or (5_000 if args.quick else 100_000)
    args.rounds = args.rounds or (2 if args.quick else 3)
    found = asyncio.run(main_async(args))
    publish("launch_bulk", found, quick=args.quick, extra={"members": args.members})


if __name__ == "__main__":
    main()
