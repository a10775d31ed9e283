"""The segment language: every field and operator parses, precedence holds, and every mistake
is reported at the word that caused it, with a suggestion when one is close."""

from __future__ import annotations

from decimal import Decimal

import pytest

from storage.segments import And, Condition, Not, Or, SegmentRuleError, parse_rule
from storage.segments.fields import FIELDS


def cond(text: str) -> Condition:
    rule = parse_rule(text)
    assert isinstance(rule, Condition)
    return rule


@pytest.mark.parametrize(
    ("text", "field", "op", "values", "days"),
    [
        ("branch = asoke", "branch", "=", ("asoke",), None),
        ("branch in (Asoke, 'Din Daeng')", "branch", "in", ("asoke", "din daeng"), None),
        ("home_branch not in (asoke)", "home_branch", "not in", ("asoke",), None),
        ("weekday in (mon, พฤ, 7)", "weekday", "in", (1, 4, 7), None),
        ("hour >= 14", "hour", ">=", (14,), None),
        ("visits_90d >= 2", "visits", ">=", (2,), 90),
        ("visits > 0", "visits", ">", (0,), None),
        ("spend_365d >= 5000", "spend", ">=", (Decimal("5000.00"),), 365),
        ("avg_ticket < 99.5", "avg_ticket", "<", (Decimal("99.50"),), None),
        ("last_visit_days <= 60", "last_visit_days", "<=", (60,), None),
        ("days_since_join != 0", "days_since_join", "!=", (0,), None),
        (
            "birth_month in (มีนาคม, apr, 12, current)",
            "birth_month",
            "in",
            (3, 4, 12, "current"),
            None,
        ),
        ("age < 30", "age", "<", (30,), None),
        ("gender = หญิง", "gender", "=", ("female",), None),
        ("tier >= Silver", "tier", ">=", ("silver",), None),
        ("points > 100", "points", ">", (100,), None),
        ('tag = "ลูกค้า VIP"', "tag", "=", ("ลูกค้า vip",), None),
        ("channel = LINE", "channel", "=", ("line",), None),
        ("language = ไทย", "language", "=", ("th",), None),
        ("marketing = yes", "marketing", "=", (True,), None),
        ("marketing != no", "marketing", "!=", (False,), None),
        ("coupon_share >= 50%", "coupon_share", ">=", (Decimal("0.5"),), None),
        ("coupon_share < 0.25", "coupon_share", "<", (Decimal("0.25"),), None),
        ("category = 'ชาไทย'", "category", "=", ("ชาไทย",), None),
        ("clicked = 12", "clicked", "=", (12,), None),
        ('redeemed = "Summer 1-get-1"', "redeemed", "=", ("summer 1-get-1",), None),
        ("segment = regular", "segment", "=", ("regular",), None),
    ],
)
def test_each_field_parses_to_its_values(
    text: str, field: str, op: str, values: tuple[object, ...], days: int | None
) -> None:
    parsed = cond(text)
    assert (parsed.field, parsed.op, parsed.values, parsed.days) == (field, op, values, days)


def test_every_field_of_the_table_is_covered_above() -> None:
    assert set(FIELDS) == {
        "branch", "home_branch", "weekday", "hour", "visits", "spend", "avg_ticket",
        "last_visit_days", "days_since_join", "birth_month", "age", "gender", "tier", "points",
        "tag", "channel", "language", "marketing", "coupon_share", "category", "clicked",
        "redeemed", "segment",
    }  # fmt: skip


@pytest.mark.parametrize("op", ["=", "!=", "<", "<=", ">", ">="])
def test_every_comparison_operator_parses(op: str) -> None:
    assert cond(f"points {op} 5").op == op


def test_not_binds_tighter_than_and_which_binds_tighter_than_or() -> None:
    rule = parse_rule("not tag = a and tag = b or tag = c")
    assert isinstance(rule, Or)
    first, second = rule.items
    assert isinstance(first, And)
    assert isinstance(first.items[0], Not)
    assert isinstance(second, Condition)


def test_parentheses_override_precedence() -> None:
    rule = parse_rule("tag = a and (tag = b or tag = c)")
    assert isinstance(rule, And)
    assert isinstance(rule.items[1], Or)


def test_keywords_are_case_insensitive() -> None:
    rule = parse_rule("NOT Tag = a AND tag NOT IN (b) Or points > 1")
    assert isinstance(rule, Or)


def rule_error(text: str) -> SegmentRuleError:
    with pytest.raises(SegmentRuleError) as raised:
        parse_rule(text)
    return raised.value


@pytest.mark.parametrize(
    ("text", "key", "word", "position", "suggestion"),
    [
        ("brnach = asoke", "segment.unknown_field", "brnach", 1, "branch"),
        (
            "visits_90d >= 2 and visit_90d >= 2",
            "segment.unknown_field",
            "visit_90d",
            21,
            "visits_90d",
        ),
        ("visits_90d >== 2", "segment.unknown_operator", ">==", 12, ">="),
        ("gender = femal", "segment.unknown_value", "femal", 10, "female"),
        ("weekday = mondey", "segment.unknown_value", "mondey", 11, "monday"),
        ("(branch = asoke or tag = a", "segment.unclosed_paren", "(", 1, ""),
        ("branch in (asoke, sukhumvit", "segment.unclosed_paren", "(", 11, ""),
        ("tag = a)", "segment.unopened_paren", ")", 8, ""),
        ("tag = a or", "segment.unexpected_end", "field", 11, ""),
        ("tag = 'abc", "segment.unclosed_quote", "'abc", 7, ""),
        ("hour = 24", "segment.bad_number", "24", 8, "0–23"),
        ("avg_ticket >= " + "9" * 30, "segment.bad_number", "9" * 30, 15, "0–1,000,000,000,000"),
        ("spend_90d > 1e40", "segment.bad_number", "1e40", 13, "0–1,000,000,000,000"),
        (
            "clicked = " + "9" * 23,
            "segment.bad_number",
            "9" * 23,
            11,
            "1–9,223,372,036,854,775,807",
        ),
        (
            "redeemed = ๙๒๒๓๓๗๒๐๓๖๘๕๔๗๗๕๘๐๘",
            "segment.bad_number",
            "๙๒๒๓๓๗๒๐๓๖๘๕๔๗๗๕๘๐๘",
            12,
            "1–9,223,372,036,854,775,807",
        ),
        ("hour = ๒๔", "segment.bad_number", "๒๔", 8, "0–23"),
        ("visits_0d > 1", "segment.bad_days", "visits_0d", 1, "3650"),
        ("gender > male", "segment.bad_operator", ">", 8, "= != in not in"),
        ("tag = a b", "segment.unexpected", "b", 9, "and / or"),
        ("tag like a", "segment.unknown_operator", "like", 5, ""),
        ("", "segment.empty_rule", "", 1, ""),
    ],
)
def test_errors_point_at_the_offending_word(
    text: str, key: str, word: str, position: int, suggestion: str
) -> None:
    error = rule_error(text)
    assert (error.rule_key, error.word, error.position, error.suggestion) == (
        key,
        word,
        position,
        suggestion,
    )


def test_a_suggestion_selects_the_did_you_mean_message() -> None:
    assert rule_error("brnach = asoke").key == "segment.unknown_field_hint"
    assert rule_error("zzzzzz = 1").key == "segment.unknown_field"


def test_deep_nesting_is_refused_not_a_crash() -> None:
    assert rule_error("not " * 100 + "tag = a").rule_key == "segment.too_deep"


@pytest.mark.parametrize(
    ("typed", "plain"),
    [
        ("visits >= ๒", "visits >= 2"),
        ("hour in (๙, １７)", "hour in (9, 17)"),
        ("weekday = ๓", "weekday = 3"),
        ("birth_month = ๑๒", "birth_month = 12"),
        ("spend_90d >= ๑๕๐๐.๕๐", "spend_90d >= 1500.50"),
        ("coupon_share >= ๕๐%", "coupon_share >= 0.5"),
        ("coupon_share >= ５０％", "coupon_share >= 0.5"),
        ("clicked in (๑๒, ９)", "clicked in (12, 9)"),
        ("redeemed = 9223372036854775807", "redeemed = 9223372036854775807"),
    ],
)
def test_digits_typed_on_a_thai_or_phone_keyboard_mean_their_number(typed: str, plain: str) -> None:
    assert cond(typed).values == cond(plain).values
