"""A parsed rule as one SQL query (SQLAlchemy Core) over ``members``.

:func:`compile_rule` gives ``SELECT members.id FROM members WHERE erased_at IS NULL AND …``
with every condition an EXISTS, a grouped scan or a scalar subquery on ``sales`` (which the
indexes ``ix_sales_member_cover`` and ``ix_sales_branch_time`` serve; AND-ed conditions on
sales share one grouped pass, :mod:`.one_pass`), so counting an audience is one
``SELECT count(*) FROM (compiled)`` and nothing is filtered member by member in Python.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, case, func, not_, or_, select
from sqlalchemy.sql.elements import ColumnElement

from storage.segments.conditions import M, positive
from storage.segments.env import SegmentEnv
from storage.segments.lifecycle import GROUP_PRECEDENCE, OTHER_GROUP, builtin_rules
from storage.segments.one_pass import and_of
from storage.segments.parser import parse_rule
from storage.segments.syntax import (
    And,
    Condition,
    Not,
    Or,
    Rule,
    SegmentRuleError,
    suggest,
)

_OPPOSITE = {"!=": "=", "not in": "in"}


def compile_rule(rule: Rule, env: SegmentEnv) -> Select[Any]:
    """The ids of the non-erased members that ``rule`` selects, as one query."""
    return select(M.id).where(M.erased_at.is_(None), compile_condition(rule, env))


def count_query(members: Select[Any]) -> Select[Any]:
    """``SELECT count(*)`` over a compiled audience."""
    return select(func.count()).select_from(members.subquery())


def compile_condition(
    rule: Rule, env: SegmentEnv, _within: tuple[str, ...] = ()
) -> ColumnElement[bool]:
    """``rule`` as a boolean SQL expression correlated on ``members.id`` (for use inside any
    query over ``members``)."""
    if isinstance(rule, And):
        return and_of(rule.items, env, lambda item: compile_condition(item, env, _within))
    if isinstance(rule, Or):
        return or_(*(compile_condition(item, env, _within) for item in rule.items))
    if isinstance(rule, Not):
        return not_(compile_condition(rule.item, env, _within))
    if rule.op in _OPPOSITE:
        flipped = Condition(
            rule.field, _OPPOSITE[rule.op], rule.values, rule.position, rule.days, rule.words
        )
        return not_(_condition(flipped, env, _within))
    return _condition(rule, env, _within)


def _condition(cond: Condition, env: SegmentEnv, within: tuple[str, ...]) -> ColumnElement[bool]:
    if cond.field != "segment":
        return positive(cond, env)
    return or_(
        *(
            _named_segment(str(value), word, position, env, within)
            for value, (word, position) in zip(cond.values, cond.words, strict=True)
        )
    )


def segment_rules(env: SegmentEnv) -> dict[str, str]:
    """Every segment a rule may name, by case-folded name: saved ones and the built-ins (a
    saved segment cannot take a built-in's name)."""
    named = {name.casefold(): rule for name, rule in env.saved.items()}
    return {**named, **builtin_rules(env.lifecycle)}


def _named_segment(
    name: str, word: str, position: int, env: SegmentEnv, within: tuple[str, ...]
) -> ColumnElement[bool]:
    rules = segment_rules(env)
    if name not in rules:
        raise SegmentRuleError("segment.unknown_segment", word, position, suggest(name, rules))
    if name in within:  # a saved segment that (through others) names itself
        raise SegmentRuleError("segment.recursive", word, position)
    return compile_condition(parse_rule(rules[name]), env, (*within, name))


def lifecycle_group(env: SegmentEnv) -> ColumnElement[str]:
    """Each member's one lifecycle group (for frequency caps), as a CASE over ``members.id``:
    the first of deal_seeker, fan, regular, returning, new, lapsed whose rule matches, else
    ``other``."""
    rules = builtin_rules(env.lifecycle)
    whens = [(compile_condition(parse_rule(rules[name]), env), name) for name in GROUP_PRECEDENCE]
    return case(*whens, else_=OTHER_GROUP)
