"""Several AND-ed conditions on a member's sales as one grouped pass over ``sales``.

``branch in (asoke, sukhumvit) and visits_90d >= 2`` compiled condition by condition is a
semi-join on the branch's sales plus a grouped scan of the last 90 days: two passes over the
big table. Every condition that only members with sales can meet (a visit to a branch, on a
weekday, at an hour, at least N visits, at least X baht) is also a test on the member's group
of sales, so an AND of two or more of them becomes one ``GROUP BY member_id HAVING …`` over the
non-voided sales:

    HAVING max(CASE WHEN branch_id IN (…) THEN 1 ELSE 0 END) = 1
       AND sum(CASE WHEN occurred_at >= :since THEN 1 ELSE 0 END) >= 2

Conditions that hold for a member without sales (``visits_30d < 2``, ``branch != asoke``) are
left to their own compilation: a member outside every group would wrongly fail them here.

PostgreSQL only: there the separate passes are what makes such a rule slow. SQLite is faster
with each condition on its own, correlated on the member: one range of
``ix_sales_member_cover`` per member and condition beats grouping (and so sorting) every sale;
there the AND stays as it was written.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, case, func, literal
from sqlalchemy.sql.elements import ColumnElement

from storage.segments.conditions import S, branch_ids, matching, satang_int
from storage.segments.env import SegmentEnv
from storage.segments.sqltime import shop_hour_in, shop_weekday_in
from storage.segments.syntax import Condition, Rule
from storage.segments.totals import (
    PerDialect,
    compare_total,
    holds_at_zero,
    in_groups,
    sales_groups,
)

Bool = ColumnElement[bool]


def _any(where: Bool) -> Bool:
    """At least one of the member's sales matches ``where``."""
    return func.max(case((where, 1), else_=0)) == literal(1)


def _total(cond: Condition, env: SegmentEnv, each_sale: ColumnElement[Any], value: int) -> Bool:
    if not cond.days:
        return compare_total(func.sum(each_sale), cond.op, value)
    since = env.now - timedelta(days=cond.days)
    counted = func.sum(case((S.occurred_at >= since, each_sale), else_=0))
    return compare_total(counted, cond.op, value)


def group_test(cond: Condition, env: SegmentEnv) -> Bool | None:
    """``cond`` as a HAVING term over the member's non-voided sales, if only members with
    sales can meet it; else None."""
    if cond.op in ("!=", "not in"):  # "never visited…": holds without sales
        return None
    if cond.field == "branch":
        return _any(S.branch_id.in_(branch_ids(cond.values)))
    if cond.field == "weekday":
        days = matching(range(1, 8), cond.op, cond.values)
        return _any(shop_weekday_in(S.occurred_at, env.tz, days))
    if cond.field == "hour":
        hours = matching(range(24), cond.op, cond.values)
        return _any(shop_hour_in(S.occurred_at, env.tz, hours))
    if cond.field not in ("visits", "spend") or cond.op == "in":
        return None
    if cond.field == "visits":
        value = int(cond.values[0])
        each_sale: ColumnElement[Any] = literal(1)
    else:
        value = satang_int(cond.values[0])
        each_sale = S.amount
    if holds_at_zero(cond.op, value):
        return None
    return _total(cond, env, each_sale, value)


def and_of(items: Sequence[Rule], env: SegmentEnv, compile_one: Callable[[Rule], Bool]) -> Bool:
    """``items`` AND-ed, the sales conditions among them (when two or more) in one pass on
    PostgreSQL."""
    compiled = [compile_one(item) for item in items]
    tests: list[Bool] = []
    rest: list[Bool] = []
    for item, each in zip(items, compiled, strict=True):
        test = group_test(item, env) if isinstance(item, Condition) else None
        if test is None:
            rest.append(each)
        else:
            tests.append(test)
    if len(tests) < 2:
        return and_(*compiled)
    one_pass = in_groups(sales_groups().having(and_(*tests))).default
    return PerDialect(and_(one_pass, *rest), and_(*compiled))
