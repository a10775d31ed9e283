"""The simulator continues each member's own history when asked (the demo's last days): a
regular stays regular and a lapsed member stays away, so spending before a campaign predicts
its window, as in a real shop."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql.elements import ColumnElement

from bot.config import Settings
from bot.demo_history import add_simulated_days, simulation_start
from simulator.population import HABIT_WEEKS, MIN_HABIT_WEEKS, load_population
from storage.models import Member, Sale
from storage.synthetic import generate_shop
from storage.synthetic.loyalty import add_counter

NOW = datetime(2026, 3, 3, 7, 30, tzinfo=UTC)
URL = "sqlite+aiosqlite:///unused.db"


async def _history(engine: AsyncEngine, until: datetime) -> dict[int, tuple[int, float]]:
    since = until - timedelta(weeks=HABIT_WEEKS)
    async with engine.connect() as connection:
        rows = await connection.execute(
            select(Sale.member_id, func.count(), func.sum(Sale.amount))
            .where(Sale.voided_at.is_(None), Sale.occurred_at >= since, Sale.occurred_at < until)
            .group_by(Sale.member_id)
        )
        return {member: (visits, float(total)) for member, visits, total in rows}


async def test_members_keep_the_visit_rate_and_basket_of_their_own_history(
    engine: AsyncEngine,
) -> None:
    await generate_shop(engine, members=80, months=8, seed=3, now=NOW)
    history = await _history(engine, NOW)
    async with engine.connect() as connection:
        joined = dict((await connection.execute(select(Member.id, Member.joined_at))).all())
    people = await load_population(engine, 3, habits_until=NOW)
    fresh = await load_population(engine, 3)
    since = NOW - timedelta(weeks=HABIT_WEEKS)
    for person, drawn in zip(people, fresh, strict=True):
        assert person.p_click == drawn.p_click  # only the habits come from the history
        visits, total = history.get(person.member_id, (0, 0.0))
        if not visits:
            assert person.weekly_visits == 0.0
            continue
        tenure = (NOW - max(joined[person.member_id], since)) / timedelta(weeks=1)
        assert person.weekly_visits == pytest.approx(
            min(5.0, visits / max(tenure, MIN_HABIT_WEEKS))
        )
        if person.median_spend > 20:  # the floor of a basket aside, the mean is theirs
            assert person.mean_basket() == pytest.approx(total / visits)
    # the generator's lapsed members (no sale in half a year) do not come back by themselves
    assert any(p.weekly_visits == 0.0 for p in people)
    assert all(p.weekly_visits > 0 for p in fresh)


def _spend(since: datetime, until: datetime) -> ColumnElement[Any]:
    inside = and_(Sale.occurred_at >= since, Sale.occurred_at < until)
    return func.coalesce(func.sum(case((inside, Sale.amount), else_=0)), 0)


@pytest.mark.e2e
async def test_the_demo_weeks_before_its_campaign_predict_the_campaign_window(
    engine: AsyncEngine,
) -> None:
    start = simulation_start(NOW, Settings(CHATCRM_DATABASE_URL=URL, _env_file=None))
    await generate_shop(engine, members=600, months=6, seed=5, now=start)
    await add_counter(engine, now=start, seed=5)
    await add_simulated_days(engine, URL, start=start, seed=5)
    async with engine.connect() as connection:
        rows = (
            await connection.execute(
                select(
                    _spend(start, start + timedelta(days=7)),
                    _spend(start - timedelta(days=28), start),
                )
                .select_from(Member)
                .outerjoin(Sale, and_(Sale.member_id == Member.id, Sale.voided_at.is_(None)))
                .group_by(Member.id)
            )
        ).all()
    window = [float(y) for y, _ in rows]
    before = [float(x) for _, x in rows]
    # drawn afresh (as before), the four weeks before told nothing: r ≈ 0 on this shop
    assert _correlation(before, window) > 0.2


def _correlation(xs: list[float], ys: list[float]) -> float:
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    return sxy / math.sqrt(sxx * syy)
