"""Totals (visits, spend, tiers) compile to one grouped scan of sales, and AND-ed sales
conditions to one pass on PostgreSQL, keeping their meaning: a member without sales has the
total 0, voided sales do not count."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from bot.bootstrap import App
from storage.models import Member
from storage.raw_session import session_of
from storage.segments import SegmentEnv, compile_rule, parse_rule
from tests.storage.segment_support import BANGKOK, build_shop

CASES = [
    # the comparison holds at 0: members without sales are in
    ("visits_90d < 2", {"bob", "cara", "dan"}),
    ("visits in (0, 1)", {"bob", "cara", "dan"}),
    ("spend_365d < 5000", {"bob", "cara"}),
    ("tier < silver", {"bob", "cara"}),
    # it fails at 0: only members with matching sales
    ("visits_90d >= 2", {"ann"}),
    ("spend > 100", {"ann", "dan"}),
    ("spend = 100", {"bob"}),  # bob's voided 1,000 THB sale is left out
]


ONE_PASS_CASES = [
    # ann: two Asoke visits in the last 90 days; bob: one Sukhumvit visit (his Asoke sale is void)
    ("branch in (asoke, sukhumvit) and visits_90d >= 2", {"ann"}),
    ("branch = asoke and spend >= 100", {"ann"}),
    ("branch = sukhumvit and visits >= 1 and spend_30d > 150", {"ann"}),
    # a condition that holds without sales stays outside the pass
    ("branch = sukhumvit and visits >= 1 and spend_30d < 150", {"bob"}),
    ("not (branch = asoke and visits_90d >= 2)", {"bob", "cara", "dan"}),
    (
        "(branch = phetchaburi and spend > 10000) or (branch = sukhumvit and visits = 1)",
        {"bob", "dan"},
    ),
    # the opposites hold without sales: they stay outside the pass
    ("branch = asoke and visits != 2", {"ann"}),
    ("branch = asoke and spend_30d not in (1, 2)", {"ann"}),
    ("branch != asoke and visits >= 1", {"bob", "dan"}),
    # weekday and hour in shop time: bob's Saturday 20:00 at Sukhumvit, dan's Saturday 06:00
    ("weekday = sat and branch = sukhumvit", {"bob"}),
    ("weekday = sat and hour < 8", {"dan"}),
    ("weekday = mon and hour >= 14 and visits >= 2", {"ann"}),
]


async def selected(app: App, text: str, *, walking: bool = False) -> set[str]:
    env = SegmentEnv(now=app.clock.now(), tz=BANGKOK, walking=walking)
    query = select(Member.name).where(Member.id.in_(compile_rule(parse_rule(text), env)))
    async with app.uow() as uow:
        return {str(name) for name in (await session_of(uow).execute(query)).scalars()}


@pytest.mark.parametrize(
    ("rule", "expected"), CASES + ONE_PASS_CASES, ids=[c[0] for c in CASES + ONE_PASS_CASES]
)
async def test_sales_rule_selects_the_members_worked_out_by_hand(
    app: App, rule: str, expected: set[str]
) -> None:
    await build_shop(app)
    assert await selected(app, rule) == expected
    assert await selected(app, rule, walking=True) == expected  # a page's form: the same


@pytest.mark.parametrize("rule", ["spend >= 2000", "visits_30d < 2", "tier >= silver"])
def test_total_compiles_to_a_grouped_scan_not_a_subquery_per_member(rule: str) -> None:
    env = SegmentEnv(now=datetime(2026, 3, 3, 7, 30, tzinfo=UTC), tz=BANGKOK)
    sql = str(compile_rule(parse_rule(rule), env).compile(dialect=postgresql.dialect()))
    assert "GROUP BY sales.member_id" in sql
    assert "sales.member_id = members.id AND sales.voided_at IS NULL" not in sql


def test_anded_sales_conditions_compile_to_one_grouped_pass() -> None:
    env = SegmentEnv(now=datetime(2026, 3, 3, 7, 30, tzinfo=UTC), tz=BANGKOK)
    rule = parse_rule("branch in (asoke, sukhumvit) and visits_90d >= 2 and spend > 500")
    sql = str(compile_rule(rule, env).compile(dialect=postgresql.dialect()))
    assert sql.count("FROM sales") == 1
    assert sql.count("GROUP BY sales.member_id") == 1


def test_sqlite_keeps_each_sales_condition_correlated_on_the_member() -> None:
    env = SegmentEnv(now=datetime(2026, 3, 3, 7, 30, tzinfo=UTC), tz=BANGKOK)
    rule = parse_rule("branch in (asoke, sukhumvit) and visits_90d >= 2")
    sql = str(compile_rule(rule, env).compile(dialect=sqlite.dialect()))
    assert sql.count("WHERE sales.member_id = members.id AND sales.voided_at IS NULL") == 2
    assert "GROUP BY" not in sql


@pytest.mark.parametrize("dialect", [sqlite.dialect(), postgresql.dialect()], ids=["sqlite", "pg"])
def test_a_page_walking_the_members_probes_each_member_s_total(dialect: Any) -> None:
    """The console's member list reads members in id order until a page is full: an ``IN``
    list of every member's spend would be built before its first row (seconds at 1M), and
    a head walk that groups every member's sales would end no sooner than the count."""
    env = SegmentEnv(now=datetime(2026, 3, 3, 7, 30, tzinfo=UTC), tz=BANGKOK, walking=True)
    walked = str(compile_rule(parse_rule("spend >= 2000"), env).compile(dialect=dialect))
    assert "GROUP BY" not in walked
    assert "WHERE sales.member_id = members.id AND sales.voided_at IS NULL" in walked
