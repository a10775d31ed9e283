# ruff: noqa: S608 — every fragment is a constant of this module; values are bound parameters
"""Hand-written SQL for the segment benchmark's rules, in the variants worth trying.

Each variant counts exactly the members our compiled rule counts (same windows, same shop-time
conversions, erased members left out), written directly against the schema: correlated
EXISTS / scalar subqueries, ``IN`` over a grouped scan, or one grouped pass over ``sales``.
Times are bound as the column stores them (naive UTC text on SQLite, aware on PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.data_shop import NOW
from storage.segments.conditions import add_months, shop_day_start
from storage.segments.env import SegmentEnv


@dataclass(frozen=True)
class HandSql:
    name: str
    sql: str
    params: dict[str, Any] = field(default_factory=dict)


def _moment(value: datetime, dialect: str) -> Any:
    if dialect == "sqlite":
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


LIVE = "m.erased_at IS NULL"
BRANCHES = "(SELECT id FROM branches WHERE code IN ('asoke', 'sukhumvit'))"


def _weekend_hour(dialect: str) -> tuple[str, str]:
    if dialect == "sqlite":  # shop time is UTC+7 all year in Bangkok
        return (
            "strftime('%w', s.occurred_at, '+7 hours') IN ('0', '6')",
            "strftime('%H', s.occurred_at, '+7 hours') >= '17'",
        )
    return (
        "EXTRACT(ISODOW FROM s.occurred_at AT TIME ZONE 'Asia/Bangkok') IN (6, 7)",
        "EXTRACT(HOUR FROM s.occurred_at AT TIME ZONE 'Asia/Bangkok') >= 17",
    )


def _branch_visits(dialect: str) -> list[HandSql]:
    since = {"since": _moment(NOW - timedelta(days=90), dialect)}
    ok = "s.voided_at IS NULL"
    return [
        HandSql(
            "correlated",
            f"SELECT count(*) FROM members m WHERE {LIVE} AND EXISTS (SELECT 1 FROM sales s "
            f"WHERE s.member_id = m.id AND {ok} AND s.branch_id IN {BRANCHES}) AND (SELECT "
            f"count(*) FROM sales s WHERE s.member_id = m.id AND {ok} AND s.occurred_at >= "
            ":since) >= 2",
            since,
        ),
        HandSql(
            "in_grouped",
            f"SELECT count(*) FROM members m WHERE {LIVE} AND m.id IN (SELECT s.member_id FROM "
            f"sales s WHERE {ok} AND s.branch_id IN {BRANCHES}) AND m.id IN (SELECT s.member_id "
            f"FROM sales s WHERE {ok} AND s.occurred_at >= :since GROUP BY s.member_id "
            "HAVING count(*) >= 2)",
            since,
        ),
        HandSql(
            "one_pass",
            f"SELECT count(*) FROM (SELECT s.member_id FROM sales s JOIN members m ON m.id = "
            f"s.member_id AND {LIVE} WHERE {ok} GROUP BY s.member_id HAVING max(CASE WHEN "
            f"s.branch_id IN {BRANCHES} THEN 1 ELSE 0 END) = 1 AND sum(CASE WHEN s.occurred_at "
            ">= :since THEN 1 ELSE 0 END) >= 2) t",
            since,
        ),
    ]


def _last_visit(dialect: str) -> list[HandSql]:
    start = {"start": _moment(shop_day_start(_env(), 60), dialect)}
    recent = "s.voided_at IS NULL AND s.occurred_at >= :start"
    # (NOT IN over the recent buyers is left out: on PostgreSQL, once the subquery outgrows
    # work_mem, it is re-scanned for every member and never finishes on a million)
    return [
        HandSql(
            "not_exists",
            f"SELECT count(*) FROM members m WHERE {LIVE} AND NOT EXISTS (SELECT 1 FROM sales s "
            f"WHERE s.member_id = m.id AND {recent})",
            start,
        ),
        HandSql(
            "difference",
            f"SELECT (SELECT count(*) FROM members m WHERE {LIVE}) - (SELECT count(DISTINCT "
            f"s.member_id) FROM sales s JOIN members m ON m.id = s.member_id WHERE {LIVE} AND "
            f"{recent})",
            start,
        ),
    ]


def _spend(threshold_satang: int, since: datetime | None, dialect: str) -> list[HandSql]:
    window = " AND s.occurred_at >= :since" if since else ""
    params: dict[str, Any] = {"least": threshold_satang}
    if since:
        params["since"] = _moment(since, dialect)
    return [
        HandSql(
            "correlated",
            f"SELECT count(*) FROM members m WHERE {LIVE} AND (SELECT coalesce(sum(s.amount), 0) "
            f"FROM sales s WHERE s.member_id = m.id AND s.voided_at IS NULL{window}) >= :least",
            params,
        ),
        HandSql(
            "in_grouped",
            f"SELECT count(*) FROM members m WHERE {LIVE} AND m.id IN (SELECT s.member_id FROM "
            f"sales s WHERE s.voided_at IS NULL{window} GROUP BY s.member_id "
            "HAVING sum(s.amount) >= :least)",
            params,
        ),
    ]


def _weekday_hour(dialect: str) -> list[HandSql]:
    weekend, evening = _weekend_hour(dialect)
    ok = "s.voided_at IS NULL"
    return [
        HandSql(
            "correlated",
            f"SELECT count(*) FROM members m WHERE {LIVE} AND EXISTS (SELECT 1 FROM sales s "
            f"WHERE s.member_id = m.id AND {ok} AND {weekend}) AND EXISTS (SELECT 1 FROM sales "
            f"s WHERE s.member_id = m.id AND {ok} AND {evening})",
        ),
        HandSql(
            "in_scan",
            f"SELECT count(*) FROM members m WHERE {LIVE} AND m.id IN (SELECT s.member_id FROM "
            f"sales s WHERE {ok} AND {weekend}) AND m.id IN (SELECT s.member_id FROM sales s "
            f"WHERE {ok} AND {evening})",
        ),
        HandSql(
            "one_pass",
            f"SELECT count(*) FROM (SELECT s.member_id FROM sales s JOIN members m ON m.id = "
            f"s.member_id AND {LIVE} WHERE {ok} GROUP BY s.member_id HAVING max(CASE WHEN "
            f"{weekend} THEN 1 ELSE 0 END) = 1 AND max(CASE WHEN {evening} THEN 1 ELSE 0 END) "
            "= 1) t",
        ),
    ]


def _birth_month(dialect: str) -> list[HandSql]:
    month = (
        "strftime('%m', m.birthday) = '03'"
        if dialect == "sqlite"
        else "EXTRACT(MONTH FROM m.birthday) = 3"
    )
    return [HandSql("scan", f"SELECT count(*) FROM members m WHERE {LIVE} AND {month}")]


def _points_tag(dialect: str) -> list[HandSql]:
    del dialect
    return [
        HandSql(
            "not_exists",
            f"SELECT count(*) FROM members m WHERE {LIVE} AND m.points_balance >= 200 AND NOT "
            "EXISTS (SELECT 1 FROM member_tags t WHERE t.member_id = m.id AND t.tag = 'vip')",
        ),
        HandSql(
            "not_in",
            f"SELECT count(*) FROM members m WHERE {LIVE} AND m.points_balance >= 200 AND m.id "
            "NOT IN (SELECT t.member_id FROM member_tags t WHERE t.tag = 'vip')",
        ),
    ]


def _env() -> SegmentEnv:
    from zoneinfo import ZoneInfo

    return SegmentEnv(now=NOW, tz=ZoneInfo("Asia/Bangkok"))


_VARIANTS: dict[str, Callable[[str], list[HandSql]]] = {
    "branch + visits": _branch_visits,
    "last visit": _last_visit,
    "total spend": lambda dialect: _spend(200_000, None, dialect),
    "weekday/hour": _weekday_hour,
    "birth month": _birth_month,
    "tier": lambda dialect: _spend(300_000, add_months(NOW, -12), dialect),
    "points + tag": _points_tag,
}


def hand_variants(label: str, dialect: str) -> list[HandSql]:
    """Every hand-written variant for the rule labelled ``label`` on ``dialect``."""
    return _VARIANTS[label](dialect)
