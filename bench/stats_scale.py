"""/stats on a big campaign: the grouped query with the regression adjustment's earlier window
against the query before it, side by side on the same shop.

    python -m bench.stats_scale [--quick] [--members N] [--database-url URL]

Builds (or reuses, :mod:`bench.data_shop`) a shop of N members with 10 sales each over six
months, makes one sent campaign whose audience is every member (10% hold-out, a 7-day
window ending at the shop's "now"), and times ``compute_stats`` and its sales query, against
the sales query as it was before (one window, no earlier sums; kept below as the baseline),
interleaved, best of seven. Target: ``/stats`` ÷ ``/stats`` before ≤ 1.25, where "before" is
today's ``compute_stats`` with the new sales and overlap queries swapped for the old one.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, Float, cast, func, insert, literal, select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql.expression import type_coerce

from bench.cli_support import FULL_MEMBERS, QUICK_MEMBERS
from bench.data_shop import NOW, ShopSize, build_shop
from bench.report import Target, publish
from shop.campaigns.launch import in_holdout
from shop.campaigns.stats import RECIPIENT, compute_stats
from storage.db import session_factory
from storage.models import Campaign, CampaignMember, Member, Sale
from storage.raw_session import session_of
from storage.repositories.campaign_results import plus_days
from storage.types import UTCDateTime
from storage.uow import UnitOfWork

DAYS = 7
START = NOW - timedelta(days=DAYS)


async def old_sales_query(uow: UnitOfWork, campaign_id: int, now: datetime) -> list[Any]:
    """The sales aggregate as ``/stats`` ran it before the earlier window was added."""
    s = session_of(uow)
    cm = CampaignMember
    satang = type_coerce(Sale.amount, BigInteger)
    since = func.coalesce(cm.enrolled_at, literal(START, UTCDateTime))
    until = plus_days(since, DAYS, s.get_bind().dialect.name)
    per_member = (
        select(
            cm.member_id.label("member_id"),
            func.count(Sale.id).label("visits"),
            func.sum(satang).label("satang"),
        )
        .select_from(cm)
        .join(Sale, Sale.member_id == cm.member_id)
        .where(
            cm.campaign_id == campaign_id,
            cm.excluded.is_(None),
            Sale.voided_at.is_(None),
            Sale.occurred_at >= since,
            Sale.occurred_at < until,
            Sale.occurred_at < now,
        )
        .group_by(cm.member_id)
        .subquery()
    )
    revenue = cast(per_member.c.satang, Float)
    rows = await s.execute(
        select(
            cm.group,
            func.count(per_member.c.member_id),
            func.sum(per_member.c.visits),
            func.sum(per_member.c.satang),
            func.sum(revenue * revenue),
        )
        .select_from(cm)
        .join(per_member, per_member.c.member_id == cm.member_id)
        .where(cm.campaign_id == campaign_id)
        .group_by(cm.group)
    )
    return list(rows)


async def _campaign(engine: AsyncEngine) -> int:
    """The benchmark's campaign (every member, 10% held out), made once per shop."""
    sessions = session_factory(engine)
    async with UnitOfWork(sessions) as uow:
        s = session_of(uow)
        found = await s.scalar(select(Campaign.id).where(Campaign.name == "stats-scale"))
        if found is not None:
            return int(found)
        campaign = Campaign(
            name="stats-scale", segment_name="all", rule="points >= 0", message="Hi",
            holdout_pct=10, attribution_days=DAYS, status="sent", started_at=START,
            created_by="bench", created_at=START,
        )  # fmt: skip
        s.add(campaign)
        await uow.flush()
        ids = list(await s.scalars(select(Member.id).order_by(Member.id)))
        connection = await s.connection()
        for k in range(0, len(ids), 20_000):
            rows = [
                {
                    "campaign_id": campaign.id,
                    "member_id": m,
                    "group": "holdout" if in_holdout(campaign.id, m, 10) else RECIPIENT,
                    "channel": "line",
                }
                for m in ids[k : k + 20_000]
            ]
            await connection.execute(insert(CampaignMember.__table__), rows)  # type: ignore[arg-type]
        await uow.commit()
        return campaign.id


async def _best(runs: Sequence[Callable[[], Awaitable[object]]], times: int = 7) -> list[float]:
    """The best time of each of ``runs``, taken in turn ``times`` times (interleaved, so a
    busy moment of a shared machine hits all of them alike)."""
    best = [float("inf")] * len(runs)
    for _ in range(times):
        for k, run in enumerate(runs):
            began = time.perf_counter()
            await run()
            best[k] = min(best[k], time.perf_counter() - began)
    return best


async def measure(base_url: str, members: int) -> list[Target]:
    engine, built = await build_shop(base_url, ShopSize(members, 10.0))
    try:
        campaign_id = await _campaign(engine)
        sessions = session_factory(engine)
        async with UnitOfWork(sessions) as uow:
            results = uow.campaign_results

            async def full() -> object:
                return await compute_stats(uow, campaign_id, NOW)

            async def new_sales() -> object:
                return await results.sales_by_group(campaign_id, START, DAYS, NOW, enrolled=False)

            async def overlap() -> object:
                end = START + timedelta(days=DAYS)
                return await results.overlapping_recipients(
                    campaign_id, START - timedelta(days=DAYS), end, RECIPIENT
                )

            async def old_sales() -> object:
                return await old_sales_query(uow, campaign_id, NOW)

            await full()  # warm the caches once
            t_full, t_new, t_overlap, t_old = await _best((full, new_sales, overlap, old_sales))
    finally:
        await engine.dispose()
    before = t_full - t_new - t_overlap + t_old
    note = (
        f"{members:,} members ({'reused' if built.reused else 'built'}); /stats {t_full:.2f} s; "
        f"sales query {t_new:.2f} s (before {t_old:.2f} s); overlap {t_overlap:.2f} s"
    )
    return [
        Target(f"{built.dialect}: /stats ÷ /stats before", t_full, before, "s", 1.25, "<=", note)
    ]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--members", type=int, default=None)
    parser.add_argument("--database-url", action="append", default=None)
    args = parser.parse_args(argv)
    members = args.members or (QUICK_MEMBERS if args.quick else FULL_MEMBERS)
    targets: list[Target] = []
    for url in args.database_url or ["sqlite+aiosqlite:///unused.db"]:
        targets += asyncio.run(measure(url, members))
    publish("stats_scale", targets, quick=args.quick)


if __name__ == "__main__":
    main()
