"""Per-member totals over sales (``visits``, ``spend``, tiers) as one grouped scan.

A correlated ``(SELECT sum(amount) FROM sales WHERE member_id = members.id) >= x`` makes the
database probe ``sales`` once per member: on a million members that is a million index
lookups, several times slower than one grouped pass over ``sales``. So a total comparison
compiles to EXISTS over ``SELECT member_id … GROUP BY member_id HAVING …``, correlated on
the grouping column. In an AND chain the database makes it a semi-join (one grouped pass);
under OR, NOT or CASE, where it cannot, the correlation is pushed into the grouped query and it
becomes one index probe per member, as the correlated sum was. (``IN`` would be worse there:
PostgreSQL re-scans an ``IN`` list that outgrows work_mem once per member.) SQLite is the
other way round: it builds an uncorrelated ``IN`` list once, in any context, but may re-run
a grouped subquery nested in a correlated one for every member; so on SQLite the condition
is ``members.id [NOT] IN (…)`` — except over a window of time (``visits_90d``), where the
correlated total, one index range per member, needs no sort and is faster.

A member without sales has the total 0 (``coalesce``). When the comparison fails at 0 (the
usual ``spend >= 2000``), the members are those in the groups that pass; when it holds at 0
(``visits_30d < 2``), they are those not in the groups that fail (NOT EXISTS: an anti-join).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Select, exists, func, literal, not_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal

from storage.models import Member, Sale, table_of

M = table_of(Member).c
S = table_of(Sale).c

_AT_ZERO: dict[str, Callable[[int], bool]] = {
    "=": lambda value: value == 0,
    "<": lambda value: value > 0,
    "<=": lambda value: value >= 0,
    ">": lambda value: value < 0,
    ">=": lambda value: value <= 0,
}


def compare_total(expr: ColumnElement[Any], op: str, value: int) -> ColumnElement[bool]:
    bound = literal(value, BigInteger)
    comparisons: dict[str, Callable[[], ColumnElement[bool]]] = {
        "=": lambda: expr == bound,
        "<": lambda: expr < bound,
        "<=": lambda: expr <= bound,
        ">": lambda: expr > bound,
        ">=": lambda: expr >= bound,
    }
    return comparisons[op]()


class PerDialect(ColumnElement[bool]):
    """One condition written two ways: ``sqlite`` on SQLite, ``default`` elsewhere (chosen
    when the statement is compiled, so one query object runs on either database)."""

    type = Boolean()
    inherit_cache = True
    # a condition in its own right: without this SQLAlchemy writes ``(…) = 1`` on SQLite (no
    # native boolean), and SQLite then evaluates ``members.id IN (…)`` as a value per member
    # instead of probing the list
    _is_implicitly_boolean = True
    # both alternatives take part in the statement cache key and its bound values
    _traverse_internals = [  # noqa: RUF012 — SQLAlchemy's own declaration style
        ("default", InternalTraversal.dp_clauseelement),
        ("sqlite", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, default: ColumnElement[bool], sqlite: ColumnElement[bool]) -> None:
        self.default = default
        self.sqlite = sqlite


@compiles(PerDialect)
def _default(element: PerDialect, compiler: SQLCompiler, **kw: Any) -> str:
    return f"({compiler.process(element.default, **kw)})"


@compiles(PerDialect, "sqlite")
def _sqlite(element: PerDialect, compiler: SQLCompiler, **kw: Any) -> str:
    return f"({compiler.process(element.sqlite, **kw)})"


def holds_at_zero(op: str, value: int) -> bool:
    """Whether ``total op value`` holds for a member whose total is 0 (no matching sales)."""
    return _AT_ZERO[op](value)


def sales_groups(since: datetime | None = None) -> Select[Any]:
    """The members' non-voided sales [since], grouped by member (add a HAVING)."""
    groups = select(S.member_id).where(S.voided_at.is_(None), S.member_id.is_not(None))
    if since is not None:
        groups = groups.where(S.occurred_at >= since)
    return groups.group_by(S.member_id)


def in_groups(groups: Select[Any]) -> PerDialect:
    """The member is one of ``groups`` (a semi-join on PostgreSQL, an ``IN`` list on SQLite)."""
    derived = groups.subquery()
    return PerDialect(exists().where(derived.c.member_id == M.id), M.id.in_(groups))


def _grouped(
    aggregate: ColumnElement[Any], since: datetime | None, op: str, value: int
) -> PerDialect:
    groups = sales_groups(since)
    if not holds_at_zero(op, value):
        return in_groups(groups.having(compare_total(aggregate, op, value)))
    failing = groups.having(not_(compare_total(aggregate, op, value)))
    derived = failing.subquery()
    return PerDialect(not_(exists().where(derived.c.member_id == M.id)), M.id.not_in(failing))


def total_compare(
    aggregate: ColumnElement[Any],
    since: datetime | None,
    op: str,
    value: int,
    *,
    walking: bool = False,
) -> ColumnElement[bool]:
    """``coalesce(aggregate over the member's non-voided sales [since], 0) op value``, true or
    false for every member (``value`` in the stored unit: satang for money); ``walking``: for
    members read one by one until a page is full (``SegmentEnv.walking``)."""
    grouped = _grouped(aggregate, since, op, value)
    if since is None and not walking:
        return grouped
    per_member = select(aggregate).where(S.member_id == M.id, S.voided_at.is_(None))
    if since is None:
        # walking, on either database: grouping every member's sales (the count's plan)
        # would read them all before a page's first row, and a head walk would end no sooner
        # than the count; one range of ``ix_sales_member_cover`` per member read does not
        total = func.coalesce(per_member.scalar_subquery(), literal(0, BigInteger))
        return compare_total(total, op, value)
    # SQLite, over a window: grouping the window's sales by member means sorting them first,
    # while one range of ``ix_sales_member_cover`` per member needs no sort.
    per_member = per_member.where(S.occurred_at >= since)
    total = func.coalesce(per_member.scalar_subquery(), literal(0, BigInteger))
    return PerDialect(grouped.default, compare_total(total, op, value))
