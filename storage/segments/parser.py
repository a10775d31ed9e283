"""A recursive-descent parser for the segment language.

Grammar (keywords are case-insensitive; ``not`` binds tighter than ``and``, ``and`` tighter
than ``or``)::

    rule      := or_rule END
    or_rule   := and_rule ("or" and_rule)*
    and_rule  := not_rule ("and" not_rule)*
    not_rule  := "not" not_rule | "(" or_rule ")" | condition
    condition := FIELD OPERATOR value | FIELD ["not"] "in" "(" value ("," value)* ")"
    value     := WORD | STRING            (a STRING may hold spaces and Thai)

Field names and values are checked here against :mod:`storage.segments.fields`; values that
need the database (branches, tiers, saved segments) are checked when the rule is compiled or
resolved.
"""

from __future__ import annotations

from typing import Final

from storage.segments.fields import lookup_field, parse_value
from storage.segments.syntax import (
    KEYWORDS,
    OPERATORS,
    And,
    Condition,
    Kind,
    Not,
    Or,
    Rule,
    SegmentRuleError,
    Token,
    suggest,
    tokenize,
)

MAX_RULE_CHARS: Final = 2000
MAX_VALUES: Final = 200
MAX_DEPTH: Final = 30


def parse_rule(text: str) -> Rule:
    """The rule written in ``text``; raises :class:`SegmentRuleError` pointing at the first
    word that does not fit."""
    if not text.strip():
        raise SegmentRuleError("segment.empty_rule", "", 1)
    if len(text) > MAX_RULE_CHARS:
        raise SegmentRuleError("segment.too_long", text[:20], MAX_RULE_CHARS)
    return _Parser(tokenize(text)).rule()


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self._tokens = tokens
        self._i = 0
        self._depth = 0

    def _peek(self) -> Token:
        return self._tokens[self._i]

    def _take(self) -> Token:
        token = self._tokens[self._i]
        self._i += 1
        return token

    def _unexpected(self, expected: str) -> SegmentRuleError:
        token = self._peek()
        if token.kind is Kind.END:
            return SegmentRuleError("segment.unexpected_end", expected, token.position)
        return SegmentRuleError("segment.unexpected", token.text, token.position, expected)

    def rule(self) -> Rule:
        rule = self._or()
        if self._peek().kind is Kind.RPAREN:
            raise SegmentRuleError("segment.unopened_paren", ")", self._peek().position)
        if self._peek().kind is not Kind.END:
            raise self._unexpected("and / or")
        return rule

    def _or(self) -> Rule:
        items = [self._and()]
        while self._peek().is_keyword("or"):
            self._take()
            items.append(self._and())
        return items[0] if len(items) == 1 else Or(tuple(items))

    def _and(self) -> Rule:
        items = [self._not()]
        while self._peek().is_keyword("and"):
            self._take()
            items.append(self._not())
        return items[0] if len(items) == 1 else And(tuple(items))

    def _not(self) -> Rule:
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise SegmentRuleError("segment.too_deep", self._peek().text, self._peek().position)
        try:
            if self._peek().is_keyword("not"):
                self._take()
                return Not(self._not())
            if self._peek().kind is Kind.LPAREN:
                opening = self._take()
                inner = self._or()
                if self._peek().kind is not Kind.RPAREN:
                    if self._peek().kind is Kind.END:
                        raise SegmentRuleError("segment.unclosed_paren", "(", opening.position)
                    raise self._unexpected(")")
                self._take()
                return inner
            return self._condition()
        finally:
            self._depth -= 1

    def _condition(self) -> Condition:
        token = self._peek()
        if token.kind is not Kind.WORD or token.text.casefold() in KEYWORDS:
            raise self._unexpected("field")
        self._take()
        field, days = lookup_field(token.text, token.position)
        op_token = self._peek()
        op = self._operator()
        if op not in field.operators:
            raise SegmentRuleError(
                "segment.bad_operator", op, op_token.position, " ".join(field.operators)
            )
        words = self._values() if op in ("in", "not in") else [self._value()]
        values = tuple(parse_value(field, w.text, w.position) for w in words)
        return Condition(
            field=field.name,
            op=op,
            values=values,
            position=token.position,
            days=days,
            words=tuple((w.text, w.position) for w in words),
        )

    def _operator(self) -> str:
        token = self._peek()
        if token.kind is Kind.OPERATOR:
            self._take()
            return token.text
        if token.is_keyword("in"):
            self._take()
            return "in"
        if token.is_keyword("not"):
            self._take()
            if not self._peek().is_keyword("in"):
                raise self._unexpected("in")
            self._take()
            return "not in"
        if token.kind is Kind.WORD:
            guess = suggest(token.text, (*OPERATORS, "in", "not in"))
            raise SegmentRuleError("segment.unknown_operator", token.text, token.position, guess)
        raise self._unexpected("= != < <= > >= in")

    def _value(self) -> Token:
        token = self._peek()
        if token.kind is Kind.STRING or (
            token.kind is Kind.WORD and token.text.casefold() not in KEYWORDS
        ):
            return self._take()
        raise self._unexpected("value")

    def _values(self) -> list[Token]:
        if self._peek().kind is not Kind.LPAREN:
            raise self._unexpected("(")
        opening = self._take()
        values = [self._value()]
        while self._peek().kind is Kind.COMMA:
            self._take()
            values.append(self._value())
            if len(values) > MAX_VALUES:
                raise SegmentRuleError("segment.too_many_values", values[-1].text, opening.position)
        if self._peek().kind is Kind.END:
            raise SegmentRuleError("segment.unclosed_paren", "(", opening.position)
        if self._peek().kind is not Kind.RPAREN:
            raise self._unexpected(", )")
        self._take()
        return values
