"""The synthetic shop: realistic enough for the flagship scenario, deterministic, consistent."""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.models import Branch, ChannelIdentity, Consent, Member, PointsEntry, Sale
from storage.synthetic import ShopSummary, generate_shop
from storage.synthetic.rows import generate_members

NOW = datetime(2026, 3, 3, 7, 30, tzinfo=UTC)
BANGKOK = ZoneInfo("Asia/Bangkok")
E164_TH_MOBILE = re.compile(r"^\+66[689]\d{8}$")


@pytest.fixture
async def shop(engine: AsyncEngine) -> ShopSummary:
    return await generate_shop(engine, members=200, months=2, seed=7, now=NOW)


async def _all(engine: AsyncEngine, *columns: Any) -> Sequence[Any]:
    async with engine.connect() as connection:
        return (await connection.execute(select(*columns))).all()


async def _count(engine: AsyncEngine, model: Any) -> int:
    async with engine.connect() as connection:
        return int((await connection.execute(select(func.count()).select_from(model))).scalar_one())


async def test_summary_counts_match_what_was_stored(engine: AsyncEngine, shop: ShopSummary) -> None:
    assert shop.members == await _count(engine, Member) == 200
    assert shop.sales == await _count(engine, Sale)
    assert shop.points_entries == await _count(engine, PointsEntry)
    assert await _count(engine, ChannelIdentity) == 200
    assert shop.sales > 200  # most members buy more than once


async def test_the_five_flagship_branches_exist_with_thai_names(
    engine: AsyncEngine, shop: ShopSummary
) -> None:
    rows = dict(await _all(engine, Branch.code, Branch.name_th))
    assert rows == {
        "asoke": "อโศก",
        "sukhumvit": "สุขุมวิท",
        "phetchaburi": "เพชรบุรี",
        "ratchada": "รัชดา",
        "dindaeng": "ดินแดง",
    }


async def test_phones_are_unique_thai_mobile_numbers(
    engine: AsyncEngine, shop: ShopSummary
) -> None:
    phones = [phone for (phone,) in await _all(engine, Member.phone)]
    assert len(set(phones)) == len(phones) == 200
    assert all(E164_TH_MOBILE.match(phone) for phone in phones)


async def test_every_sale_has_its_points_entry(engine: AsyncEngine, shop: ShopSummary) -> None:
    sales = dict(await _all(engine, Sale.id, Sale.amount))
    ledger = dict(
        await _all(engine, PointsEntry.sale_id, PointsEntry.delta)  # type: ignore[arg-type]
    )
    ledger.pop(None, None)  # welcome points
    assert set(ledger) == set(sales)
    assert all(ledger[sale_id] == int(amount // 25) for sale_id, amount in sales.items())


async def test_cached_balances_equal_the_ledger_sums(
    engine: AsyncEngine, shop: ShopSummary
) -> None:
    async with engine.connect() as connection:
        rows = await connection.execute(
            select(PointsEntry.member_id, func.sum(PointsEntry.delta)).group_by(
                PointsEntry.member_id
            )
        )
        sums = {member_id: int(total) for member_id, total in rows}
    balances = dict(await _all(engine, Member.id, Member.points_balance))
    assert balances == sums


async def test_every_member_has_welcome_points_and_membership_consent(
    engine: AsyncEngine, shop: ShopSummary
) -> None:
    welcome = await _all(engine, PointsEntry.member_id, PointsEntry.reason, PointsEntry.delta)
    assert sum(1 for _, reason, delta in welcome if reason == "welcome" and delta > 0) == 200
    consents = await _all(engine, Consent.purpose, Consent.granted)
    assert sum(1 for purpose, granted in consents if purpose == "membership" and granted) == 200
    marketing = [granted for purpose, granted in consents if purpose == "marketing"]
    assert 0.6 < sum(marketing) / len(marketing) < 0.9


async def test_weekday_afternoons_are_quiet_compared_with_lunch(
    engine: AsyncEngine, shop: ShopSummary
) -> None:
    local = [moment.astimezone(BANGKOK) for (moment,) in await _all(engine, Sale.occurred_at)]
    weekday = [moment for moment in local if moment.weekday() < 5]
    lunch = sum(1 for moment in weekday if 11 <= moment.hour < 14)
    afternoon = sum(1 for moment in weekday if 14 <= moment.hour < 17)
    assert afternoon * 2 < lunch


async def test_some_members_have_lapsed(engine: AsyncEngine, shop: ShopSummary) -> None:
    async with engine.connect() as connection:
        rows = (
            await connection.execute(
                select(Sale.member_id, func.max(Sale.occurred_at)).group_by(Sale.member_id)
            )
        ).all()
    lapsed = [member for member, last in rows if last < NOW - timedelta(days=60)]
    assert 0.05 * 200 < len(lapsed) < 0.3 * 200
    assert shop.lapsed_members > 0


async def test_visit_counts_have_a_heavy_tail(engine: AsyncEngine, shop: ShopSummary) -> None:
    async with engine.connect() as connection:
        visits = sorted(
            count
            for (count,) in (
                await connection.execute(
                    select(func.count()).select_from(Sale).group_by(Sale.member_id)
                )
            ).all()
        )
    median = visits[len(visits) // 2]
    assert visits[-1] >= 5 * max(median, 1)


async def test_identities_are_mostly_line_with_realistic_user_ids(
    engine: AsyncEngine, shop: ShopSummary
) -> None:
    rows = await _all(engine, ChannelIdentity.channel, ChannelIdentity.user_id)
    line = [user for channel, user in rows if channel == "line"]
    telegram = [user for channel, user in rows if channel == "telegram"]
    assert 0.55 < len(line) / len(rows) < 0.85
    assert all(re.fullmatch(r"U[0-9a-f]{32}", user) for user in line)
    assert all(user.isdigit() for user in telegram)


async def test_a_second_generation_continues_after_existing_ids(
    engine: AsyncEngine, shop: ShopSummary
) -> None:
    more = await generate_shop(engine, members=20, months=1, seed=8, now=NOW)
    assert more.members == 20
    assert await _count(engine, Member) == 220
    assert await _count(engine, Branch) == 5


def _plan(seed: int) -> list[tuple[Any, ...]]:
    codes = ["asoke", "sukhumvit", "phetchaburi", "ratchada", "dindaeng"]
    branch_ids = {code: n for n, code in enumerate(codes, start=1)}
    members = generate_members(
        random.Random(seed), count=50, months=2, now=NOW, branch_ids=branch_ids
    )
    return [
        (rows.member["name"], rows.member["phone"], [s["amount"] for s in rows.sales])
        for rows in members
    ]


def test_same_seed_gives_the_same_shop() -> None:
    assert _plan(3) == _plan(3)


def test_another_seed_gives_another_shop() -> None:
    assert _plan(3) != _plan(4)


async def test_ordinary_inserts_after_generation_get_fresh_ids(
    engine: AsyncEngine, shop: ShopSummary
) -> None:
    async with engine.begin() as connection:
        result = await connection.execute(
            insert(Member).returning(Member.id),
            [
                {
                    "member_code": "ZZZZ2222",
                    "joined_at": NOW,
                    "locale": "th",
                    "marketing_opt_in": False,
                }
            ],
        )
        new_id = result.scalar_one()
    assert new_id > 200
