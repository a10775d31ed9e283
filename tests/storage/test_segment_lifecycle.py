"""Built-in lifecycle segments on a synthetic shop: each finds members, the ones that must not
overlap do not, and lifecycle_group gives every member exactly one group."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import select, update

from bot.bootstrap import App
from storage.models import Member, Sale
from storage.raw_session import session_of
from storage.segments import (
    BUILTIN_SEGMENTS,
    GROUP_PRECEDENCE,
    LifecycleRules,
    SegmentEnv,
    compile_rule,
    lifecycle_group,
    parse_rule,
)
from storage.segments.lifecycle_pass import lifecycle_counts_query
from storage.synthetic import generate_shop
from tests.storage.segment_support import BANGKOK


async def builtin_members(app: App) -> dict[str, set[int]]:
    env = SegmentEnv(now=app.clock.now(), tz=BANGKOK)
    found: dict[str, set[int]] = {}
    async with app.uow() as uow:
        for name, rule in BUILTIN_SEGMENTS.items():
            query = compile_rule(parse_rule(rule), env)
            found[name] = set((await session_of(uow).execute(query)).scalars())
    return found


async def test_every_builtin_segment_finds_members_in_a_synthetic_shop(app: App) -> None:
    await generate_shop(app.engine, members=400, months=12, seed=7, now=app.clock.now())
    found = await builtin_members(app)
    assert {name: bool(ids) for name, ids in found.items()} == dict.fromkeys(found, True)


async def test_groups_that_exclude_each_other_do_not_overlap(app: App) -> None:
    await generate_shop(app.engine, members=400, months=12, seed=7, now=app.clock.now())
    found = await builtin_members(app)
    assert not found["returning"] & found["regular"]
    assert not found["new"] & found["lapsed"]


async def test_lifecycle_group_gives_each_member_one_group_by_precedence(app: App) -> None:
    await generate_shop(app.engine, members=400, months=12, seed=7, now=app.clock.now())
    found = await builtin_members(app)
    env = SegmentEnv(now=app.clock.now(), tz=BANGKOK)
    async with app.uow() as uow:
        rows = (await session_of(uow).execute(select(Member.id, lifecycle_group(env)))).all()
    groups = dict(rows)
    assert len(groups) == 400
    for member_id, group in groups.items():
        matching = [name for name in GROUP_PRECEDENCE if member_id in found[name]]
        assert group == (matching[0] if matching else "other")
    assert len(Counter(groups.values())) >= 5


async def _per_member_counts(app: App, env: SegmentEnv) -> Counter[str]:
    async with app.uow() as uow:
        query = select(lifecycle_group(env)).where(Member.erased_at.is_(None))
        return Counter((await session_of(uow).execute(query)).scalars())


@pytest.mark.parametrize(
    "thresholds",
    [
        {},
        # other windows and bounds, and thresholds every member meets at zero
        {"window_days": 30, "returning_min": 1, "regular_min": 3, "lapsed_days": 20},
        {"fan_spend": "0", "deal_share": "0.2", "deal_min_visits": 0, "new_days": 200},
    ],
    ids=["defaults", "short window", "thresholds at zero"],
)
async def test_one_pass_counts_equal_the_per_member_groups(
    app: App, thresholds: dict[str, object]
) -> None:
    """/report counts groups in one pass over sales; it must agree with lifecycle_group."""
    await generate_shop(app.engine, members=600, months=14, seed=11, now=app.clock.now())
    async with app.uow() as uow:  # voided sales count nowhere; an erased member nowhere
        await session_of(uow).execute(
            update(Sale).where(Sale.id % 7 == 0).values(voided_at=app.clock.now())
        )
        await session_of(uow).execute(
            update(Member).where(Member.id == 5).values(erased_at=app.clock.now())
        )
        await uow.commit()
    env = SegmentEnv(
        now=app.clock.now(), tz=BANGKOK, lifecycle=LifecycleRules.from_setting(thresholds)
    )
    async with app.uow() as uow:
        one_pass = Counter(
            {name: int(n) for name, n in await session_of(uow).execute(lifecycle_counts_query(env))}
        )
    per_member = await _per_member_counts(app, env)
    assert one_pass == per_member
    assert len(one_pass) >= 2  # more than one group, or the comparison proves little


def test_thresholds_come_from_the_setting_with_defaults_for_the_rest() -> None:
    rules = LifecycleRules.from_setting({"lapsed_days": 90, "fan_spend": "8000", "junk": 1})
    assert (rules.lapsed_days, str(rules.fan_spend), rules.new_days) == (90, "8000", 30)
    assert LifecycleRules.from_setting({"regular_min": 1}) == LifecycleRules()
