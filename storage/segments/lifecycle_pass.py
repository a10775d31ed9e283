"""Members per lifecycle group for the whole shop, in one grouped pass over sales.

:func:`~storage.segments.compiler.lifecycle_group` decides one member's group with the segment
engine's own conditions, each a probe of that member's sales: right for a frequency cap on an
audience, but ``/report`` asks it of every member, and six probes per member do not scale to a
big shop. Here every per-member figure the groups need (visits in the window,
spend in the fan window, visits and coupon visits ever, the last visit) comes from one
``GROUP BY member_id`` over the non-voided sales, joined to the members, and the same precedence
is applied to those figures. The rules are the ones :func:`builtin_rules` writes, with the
segment language's meaning (``visits_Nd`` counts from N×24 hours ago; ``days_since_join`` and
``last_visit_days`` count shop calendar days; a member without sales has zero visits and spend
and no coupon share); a test compares both ways on a generated shop.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, Integer, Select, and_, case, cast, func, literal, select

from storage.models import Member, Sale, table_of
from storage.segments.conditions import SHARE, shop_day_start
from storage.segments.env import SegmentEnv
from storage.segments.lifecycle import GROUP_PRECEDENCE, OTHER_GROUP
from storage.types import SATANG_PER_BAHT

M = table_of(Member).c
S = table_of(Sale).c


def new_since(env: SegmentEnv) -> datetime:
    """Who joined at or after this instant is new: ``days_since_join <= new_days``, counted
    in shop calendar days like the built-in segment ``new``. ``/report``'s count of new members
    uses it too, so the report never shows two different "new"."""
    return shop_day_start(env, env.lifecycle.new_days)


def lifecycle_counts_query(env: SegmentEnv) -> Select[Any]:
    """``(group, members)`` rows for the live members; groups nobody is in are absent."""
    rules, now = env.lifecycle, env.now
    window_since = now - timedelta(days=rules.window_days)
    fan_since = now - timedelta(days=rules.fan_days)
    amount = cast(S.amount, BigInteger)
    totals = (
        select(
            S.member_id.label("member_id"),
            func.count(case((S.occurred_at >= window_since, 1))).label("recent"),
            func.sum(case((S.occurred_at >= fan_since, amount), else_=0)).label("fan_spend"),
            func.count().label("visits"),
            func.sum(cast(S.used_coupon, Integer)).label("coupons"),
            func.max(S.occurred_at).label("last_at"),
        )
        .where(S.voided_at.is_(None), S.member_id.is_not(None))
        .group_by(S.member_id)
        .subquery("totals")
    )
    recent = func.coalesce(totals.c.recent, 0)
    visits = func.coalesce(totals.c.visits, 0)
    share = cast(literal(rules.deal_share, SHARE), SHARE)
    fan_least = literal(int(rules.fan_spend * SATANG_PER_BAHT), BigInteger)
    # ``last_visit_days >= n`` is "no visit since shop midnight n - 1 days ago"
    lapsed_before = shop_day_start(env, rules.lapsed_days - 1)
    whens = {
        # coupon visits − share × visits >= 0; NULL (no sales) is false, as coupon_share is
        "deal_seeker": and_(
            totals.c.coupons - share * totals.c.visits >= 0, visits >= rules.deal_min_visits
        ),
        "fan": func.coalesce(totals.c.fan_spend, 0) >= fan_least,
        "regular": recent >= rules.regular_min,
        "returning": and_(recent >= rules.returning_min, recent < rules.regular_min),
        "new": M.joined_at >= new_since(env),
        "lapsed": and_(visits >= 1, totals.c.last_at < lapsed_before),
    }
    group = case(*((whens[name], name) for name in GROUP_PRECEDENCE), else_=OTHER_GROUP)
    label = group.label("grp")
    return (
        select(label, func.count())
        .select_from(table_of(Member))
        .outerjoin(totals, totals.c.member_id == M.id)
        .where(M.erased_at.is_(None))
        .group_by(label)
    )
