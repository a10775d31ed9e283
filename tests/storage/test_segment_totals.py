"""Totals (visits, spend, tiers) compile to one grouped scan of sales and keep their meaning:
a member without sales has the total 0, voided sales do not count."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.dialects import postgresql

from bot.bootstrap import App
from storage.models import Member
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


async def selected(app: App, text: str) -> set[str]:
    env = SegmentEnv(now=app.clock.now(), tz=BANGKOK)
    query = select(Member.name).where(Member.id.in_(compile_rule(parse_rule(text), env)))
    async with app.uow() as uow:
        return {str(name) for name in (await uow.session.execute(query)).scalars()}


@pytest.mark.parametrize(("rule", "expected"), CASES, ids=[case[0] for case in CASES])
async def test_total_rule_selects_the_members_worked_out_by_hand(
    app: App, rule: str, expected: set[str]
) -> None:
    await build_shop(app)
    assert await selected(app, rule) == expected


@pytest.mark.parametrize("rule", ["spend >= 2000", "visits_30d < 2", "tier >= silver"])
def test_total_compiles_to_a_grouped_scan_not_a_subquery_per_member(rule: str) -> None:
    env = SegmentEnv(now=datetime(2026, 3, 3, 7, 30, tzinfo=UTC), tz=BANGKOK)
    sql = str(compile_rule(parse_rule(rule), env).compile(dialect=postgresql.dialect()))
    assert "GROUP BY sales.member_id" in sql
    assert "sales.member_id = members.id AND sales.voided_at IS NULL" not in sql
