"""One condition (``field op values``) as a SQL boolean over ``members.id``.

Every condition is *definite* (true or false, never NULL), so ``not`` always means "everyone
else". Conventions, in the shop's words:

- Fields about visits (``branch``, ``weekday``, ``hour``, ``category``) mean "has at least one
  non-voided sale that…"; ``tag``, ``channel``, ``clicked``, ``redeemed`` likewise mean "has
  one". ``hour >= 14 and hour < 16`` is two separate conditions (a visit at or after 14:00 and
  a visit before 16:00, maybe not the same one).
- ``!=`` and ``not in`` are the exact opposite of ``=`` and ``in``: ``branch != asoke`` is
  "never visited Asoke", ``gender != female`` includes members who did not say.
- ``visits_Nd`` / ``spend_Nd`` look back N×24 hours from now; ``visits`` / ``spend`` alone are
  all time. ``last_visit_days`` and ``days_since_join`` count shop calendar days (yesterday is
  1); a member who never visited has an endless ``last_visit_days``: ``last_visit_days > 60``
  includes them, ``last_visit_days <= 60`` does not.
- ``avg_ticket``, ``coupon_share``, ``age``, ``birth_month``, ``gender`` compare false for a
  member without the data (no sales, no birthday…), except through ``!=``/``not``.

Values are always bound parameters; rule text never becomes SQL text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Integer,
    Numeric,
    and_,
    cast,
    exists,
    extract,
    false,
    func,
    literal,
    not_,
    or_,
    select,
    true,
)
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from storage.models import (
    Branch,
    Campaign,
    CampaignMember,
    ChannelIdentity,
    Coupon,
    Member,
    MemberTag,
    Sale,
    table_of,
)
from storage.segments.env import SegmentEnv
from storage.segments.fields import CURRENT_MONTH
from storage.segments.sqltime import shop_hour_in, shop_weekday_in
from storage.segments.syntax import Condition, Scalar, SegmentRuleError, suggest
from storage.segments.totals import PerDialect, total_compare
from storage.types import SATANG_PER_BAHT

Bool = ColumnElement[bool]
M = table_of(Member).c
S = table_of(Sale).c
SHARE = Numeric(10, 4)


def compare(expr: ColumnElement[Any], op: str, values: Sequence[Any]) -> Bool:
    """``expr op value`` for the positive operators (``in`` takes them all)."""
    if op == "in":
        return expr.in_(list(values))
    value = values[0]
    comparisons: dict[str, Callable[[], Bool]] = {
        "=": lambda: expr == value,
        "<": lambda: expr < value,
        "<=": lambda: expr <= value,
        ">": lambda: expr > value,
        ">=": lambda: expr >= value,
    }
    return comparisons[op]()


_HOLDS: dict[str, Callable[[int, int], bool]] = {
    "=": lambda a, b: a == b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def matching(domain: Iterable[int], op: str, values: Sequence[Scalar]) -> list[int]:
    """The values of a small whole-number field (weekday, hour) that satisfy ``op values``."""
    wanted = [int(value) for value in values]
    if op == "in":
        return [n for n in domain if n in wanted]
    return [n for n in domain if _HOLDS[op](n, wanted[0])]


def each(op: str, values: Sequence[Scalar], one: Callable[[str, Scalar], Bool]) -> Bool:
    """``in`` as an OR of ``=``, for comparisons that are not a plain column IN list."""
    if op == "in":
        return or_(*(one("=", value) for value in values))
    return one(op, values[0])


def definite(expr: ColumnElement[Any]) -> Bool:
    """NULL (no data to compare) counts as false."""
    return func.coalesce(expr, false(), type_=Boolean)


def _visit(*where: Any) -> Bool:
    """EXISTS a non-voided sale of the member that matches ``where``."""
    return exists().where(S.member_id == M.id, S.voided_at.is_(None), *where)


def _visit_total(what: ColumnElement[Any], since: datetime | None) -> ColumnElement[Any]:
    query = select(what).where(S.member_id == M.id, S.voided_at.is_(None))
    if since is not None:
        query = query.where(S.occurred_at >= since)
    return query.scalar_subquery()


def _satang(value: Scalar) -> ColumnElement[int]:
    return literal(satang_int(value), BigInteger)


def satang_int(value: Scalar) -> int:
    assert isinstance(value, Decimal)
    return int(value * SATANG_PER_BAHT)


def shop_day_start(env: SegmentEnv, days_ago: int) -> datetime:
    """The UTC instant of shop midnight ``days_ago`` days before today (shop time)."""
    today = env.now.astimezone(env.tz).date()
    day = today - timedelta(days=days_ago)
    return datetime.combine(day, time(), env.tz)


def days_since(within: Callable[[int], Bool], op: str, values: Sequence[Scalar]) -> Bool:
    """A whole-days-ago comparison from ``within(n)`` = "at most n days ago"."""

    def one(op: str, value: Scalar) -> Bool:
        n = int(value)
        table: dict[str, Callable[[], Bool]] = {
            "<=": lambda: within(n),
            "<": lambda: within(n - 1),
            ">": lambda: not_(within(n)),
            ">=": lambda: not_(within(n - 1)),
            "=": lambda: and_(within(n), not_(within(n - 1))),
        }
        return table[op]()

    return each(op, values, one)


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a year without one
        return day.replace(year=day.year - years, day=28)


def _age(env: SegmentEnv, op: str, values: Sequence[Scalar]) -> Bool:
    today = env.now.astimezone(env.tz).date()
    known = M.birthday.is_not(None)

    def at_least(n: int) -> Bool:
        return and_(known, M.birthday <= _years_before(today, max(n, 0)))

    def one(op: str, value: Scalar) -> Bool:
        n = int(value)
        table: dict[str, Callable[[], Bool]] = {
            ">=": lambda: at_least(n),
            ">": lambda: at_least(n + 1),
            "<=": lambda: and_(known, not_(at_least(n + 1))),
            "<": lambda: and_(known, not_(at_least(n))),
            "=": lambda: and_(at_least(n), not_(at_least(n + 1))),
        }
        return table[op]()

    return each(op, values, one)


def branch_ids(values: Sequence[Scalar]) -> Any:
    """Branches named by code, case-insensitively, or by English or Thai name when the word is
    no branch's code (a code names its branch only: :mod:`storage.branch_names`). Saved rules
    name branches by code (:func:`storage.segments.resolve.canonical_rule`); names are still
    read for rules typed inline and those saved before."""
    words = [str(v) for v in values]
    other = aliased(Branch)
    codes = select(func.lower(other.code))
    name_en = func.lower(Branch.name_en)
    by_name_en = and_(name_en.in_(words), name_en.not_in(codes))
    by_name_th = and_(Branch.name_th.in_(words), Branch.name_th.not_in(codes))
    return select(Branch.id).where(or_(func.lower(Branch.code).in_(words), by_name_en, by_name_th))


def _campaign_ids(values: Sequence[Scalar]) -> Any:
    ids = [v for v in values if isinstance(v, int) and not isinstance(v, bool)]
    names = [str(v).casefold() for v in values]
    return select(Campaign.id).where(
        or_(Campaign.id.in_(ids), func.lower(Campaign.name).in_(names))
    )


def _tier(env: SegmentEnv, cond: Condition) -> Bool:
    """The tier a member holds (as ``shop.loyalty`` decides it): the one their spend in the tier
    window reaches, or the one the monthly review gave them (``members.tier``) if higher."""
    tiers = sorted(env.tiers, key=lambda tier: tier[1])
    names = [name.casefold() for name, _ in tiers]
    since = add_months(env.now, -env.tier_window_months)
    for value, (word, position) in zip(cond.values, cond.words, strict=False):
        if value not in names:
            raise SegmentRuleError("segment.unknown_value", word, position, suggest(word, names))

    def from_rank(i: int) -> Bool:  # holds tier i or above
        if i >= len(tiers):
            return false()
        reached = total_compare(
            func.sum(S.amount), since, ">=", satang_int(tiers[i][1]), walking=env.walking
        )
        # the tier the review gave counts until the review takes it away (shop.loyalty)
        kept = [name for name, _ in tiers[i:]]
        return or_(and_(M.tier.is_not(None), M.tier.in_(kept)), reached)

    def one(op: str, value: Scalar) -> Bool:
        i = names.index(str(value))
        table: dict[str, Callable[[], Bool]] = {
            "=": lambda: and_(from_rank(i), not_(from_rank(i + 1))),
            ">=": lambda: from_rank(i),
            ">": lambda: from_rank(i + 1),
            "<": lambda: not_(from_rank(i)),
            "<=": lambda: not_(from_rank(i + 1)),
        }
        return table[op]()

    return each(op=cond.op, values=cond.values, one=one)


def add_months(moment: datetime, months: int) -> datetime:
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    for day in (moment.day, 30, 29, 28):
        try:
            return moment.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _coupon_share(op: str, values: Sequence[Scalar]) -> Bool:
    used = func.sum(cast(S.used_coupon, Integer))

    def one(op: str, value: Scalar) -> Bool:
        # used − share × visits, compared with 0: no division, and no sales gives NULL → false
        share = cast(literal(value, SHARE), SHARE)  # typed, so PostgreSQL never guesses integer
        gap = _visit_total(used - share * func.count(), None)
        return definite(compare(gap, op, [0]))

    return each(op, values, one)


def _category(op: str, values: Sequence[Scalar]) -> Bool:
    items = literal(",") + func.replace(func.lower(S.categories), ", ", ",") + literal(",")
    return _visit(or_(*(items.contains(f",{value},", autoescape=True) for value in values)))


def positive(cond: Condition, env: SegmentEnv) -> Bool:
    """The condition for ``=``, ``in`` and the ordered operators (not ``!=`` / ``not in``)."""
    for compile_on in (_on_sales, _on_member, _on_campaigns):
        found = compile_on(cond, env)
        if found is not None:
            return found
    raise SegmentRuleError("segment.unknown_field", cond.field, cond.position)


def _on_sales(cond: Condition, env: SegmentEnv) -> Bool | None:
    """A condition on the member's sales; None for a field of another kind."""
    op, values, field = cond.op, cond.values, cond.field
    if field == "branch":
        return _visit(S.branch_id.in_(branch_ids(values)))
    if field == "weekday":
        days = matching(range(1, 8), op, values)
        return _visit(shop_weekday_in(S.occurred_at, env.tz, days))
    if field == "hour":
        hours = matching(range(24), op, values)
        return _visit(shop_hour_in(S.occurred_at, env.tz, hours))
    if field == "visits":
        since = env.now - timedelta(days=cond.days) if cond.days else None
        if (op, values) in ((">=", (1,)), (">", (0,))):  # the common "has visited": an EXISTS
            return _visit(S.occurred_at >= since) if since else _visit()
        return each(
            op,
            values,
            lambda o, v: total_compare(func.count(), since, o, int(v), walking=env.walking),
        )
    if field == "spend":
        since = env.now - timedelta(days=cond.days) if cond.days else None
        amount = func.sum(S.amount)
        return each(
            op,
            values,
            lambda o, v: total_compare(amount, since, o, satang_int(v), walking=env.walking),
        )
    if field == "avg_ticket":
        average = _visit_total(func.avg(S.amount), None)
        return each(op, values, lambda o, v: definite(compare(average, o, [_satang(v)])))
    if field == "last_visit_days":
        return days_since(lambda n: _visit(S.occurred_at >= shop_day_start(env, n)), op, values)
    if field == "coupon_share":
        return _coupon_share(op, values)
    if field == "category":
        return _category(op, values)
    return None


def _on_member(cond: Condition, env: SegmentEnv) -> Bool | None:
    """A condition on the member's own row, tags or chat accounts; None for another field."""
    op, values, field = cond.op, cond.values, cond.field
    if field == "home_branch":
        return and_(M.home_branch_id.is_not(None), M.home_branch_id.in_(branch_ids(values)))
    if field == "days_since_join":
        return days_since(lambda n: M.joined_at >= shop_day_start(env, n), op, values)
    if field == "birth_month":
        month = env.now.astimezone(env.tz).month
        wanted = [month if v == CURRENT_MONTH else v for v in values]
        # SQLite: the stored date's month text against zero-padded months ('03'), which
        # orders like the numbers and spares a CAST per member
        by_text = compare(func.strftime("%m", M.birthday), op, [f"{int(v):02d}" for v in wanted])
        by_number = compare(extract("month", M.birthday), op, wanted)
        return and_(M.birthday.is_not(None), PerDialect(by_number, by_text))
    if field == "age":
        return _age(env, op, values)
    if field == "gender":
        return and_(M.gender.is_not(None), compare(M.gender, op, values))
    if field == "tier":
        return _tier(env, cond)
    if field == "points":
        return compare(M.points_balance, op, values)
    if field == "tag":
        return exists().where(MemberTag.member_id == M.id, MemberTag.tag.in_(list(values)))
    if field == "channel":
        return exists().where(
            ChannelIdentity.member_id == M.id,
            ChannelIdentity.channel.in_(list(values)),
            ChannelIdentity.reachable.is_(True),
        )
    if field == "language":
        return compare(M.locale, op, values)
    if field == "marketing":
        return M.marketing_opt_in.is_(true()) if values[0] else M.marketing_opt_in.is_(false())
    return None


def _on_campaigns(cond: Condition, env: SegmentEnv) -> Bool | None:
    """A condition on the campaigns the member clicked or redeemed; None for another field."""
    values, field = cond.values, cond.field
    if field == "clicked":
        return exists().where(
            CampaignMember.member_id == M.id,
            CampaignMember.clicked_at.is_not(None),
            CampaignMember.campaign_id.in_(_campaign_ids(values)),
        )
    if field == "redeemed":
        return exists().where(
            Coupon.member_id == M.id,
            Coupon.status == "redeemed",
            Coupon.campaign_id.in_(_campaign_ids(values)),
        )
    return None
