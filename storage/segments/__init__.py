"""The segment engine: a small rule language compiled to one SQL query per segment.

    rule = parse_rule("branch in (asoke, sukhumvit) and visits_90d >= 2")
    members = compile_rule(rule, SegmentEnv(now=now, tz=ZoneInfo("Asia/Bangkok")))
    # SELECT members.id FROM members WHERE … (SQLAlchemy Core, runs on SQLite and PostgreSQL)

The language (:mod:`.parser`), its fields (:mod:`.fields`, semantics in :mod:`.conditions`),
the built-in lifecycle segments (:mod:`.lifecycle`) and name-or-rule resolution
(:mod:`.resolve`).
"""

from storage.segments.compiler import compile_condition, compile_rule, count_query, lifecycle_group
from storage.segments.env import DEFAULT_TIER_TABLE, DEFAULT_TIERS, SegmentEnv
from storage.segments.lifecycle import (
    BUILTIN_SEGMENTS,
    GROUP_PRECEDENCE,
    OTHER_GROUP,
    LifecycleRules,
    builtin_rules,
)
from storage.segments.parser import parse_rule
from storage.segments.resolve import (
    audience_size,
    canonical_rule,
    check_rule,
    resolve_segment,
    with_saved,
)
from storage.segments.syntax import And, Condition, Not, Or, Rule, SegmentRuleError

__all__ = [
    "BUILTIN_SEGMENTS",
    "DEFAULT_TIERS",
    "DEFAULT_TIER_TABLE",
    "GROUP_PRECEDENCE",
    "OTHER_GROUP",
    "And",
    "Condition",
    "LifecycleRules",
    "Not",
    "Or",
    "Rule",
    "SegmentEnv",
    "SegmentRuleError",
    "audience_size",
    "builtin_rules",
    "canonical_rule",
    "check_rule",
    "compile_condition",
    "compile_rule",
    "count_query",
    "lifecycle_group",
    "parse_rule",
    "resolve_segment",
    "with_saved",
]
