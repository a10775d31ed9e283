"""The segment language's words and tree: tokens, the lexer, the rule AST and its error.

A rule is text such as ``branch in (asoke, sukhumvit) and visits_90d >= 2``. The lexer splits
it into words (bare words may be Thai), quoted strings ('…' or "…"), numbers, the comparison
operators ``= != < <= > >=``, parentheses and commas. Positions are 1-based character
columns, so an error can point at the word a person typed.
"""

from __future__ import annotations

import difflib
import enum
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from bot.core.errors import DomainError

OPERATORS: Final = ("=", "!=", "<", "<=", ">", ">=")
KEYWORDS: Final = frozenset({"and", "or", "not", "in"})
_OPERATOR_CHARS: Final = frozenset("=!<>")
_SPECIAL: Final = frozenset("()=!<>,'\"")
#: problems whose message has a "did you mean" variant (``<key>_hint``)
HINTED: Final = frozenset(
    {
        "segment.unknown_field",
        "segment.unknown_value",
        "segment.unknown_operator",
        "segment.unknown_branch",
        "segment.unknown_segment",
    }
)


#: what the parser expected, named by a kind of word rather than the word itself: the catalog
#: says it in the reader's language (``segment.unexpected_end_value``), never the bare name
DESCRIBED: Final = frozenset({"field", "value"})


def _shown_key(key: str, word: str, suggestion: str) -> str:
    if suggestion and key in HINTED:
        return f"{key}_hint"
    if key == "segment.unexpected_end" and word in DESCRIBED:
        return f"{key}_{word}"
    if key == "segment.unexpected" and suggestion in DESCRIBED:
        return f"{key}_{suggestion}"
    return key


class SegmentRuleError(DomainError):
    """A rule that cannot be understood. ``rule_key`` names the problem
    (``segment.unknown_field``, ``segment.unknown_value``…), ``word`` is what was typed,
    ``position`` its 1-based column and ``suggestion`` the closest known word ('' when nothing
    is close). ``key`` (the catalog text the bus shows) is ``rule_key`` plus ``_hint`` when
    there is a suggestion, so the message says "did you mean …?" only when it has an answer."""

    key = "segment.invalid_rule"

    def __init__(self, key: str, word: str, position: int, suggestion: str = "") -> None:
        super().__init__(
            _shown_key(key, word, suggestion),
            word=word,
            position=position,
            suggestion=suggestion,
        )
        self.rule_key = key
        self.word = word
        self.position = position
        self.suggestion = suggestion

    def __str__(self) -> str:
        hint = f" — did you mean '{self.suggestion}'?" if self.suggestion else ""
        return f"{self.rule_key}: '{self.word}' at {self.position}{hint}"


def suggest(word: str, known: Iterable[str]) -> str:
    """The closest known word to ``word`` (difflib), or ''."""
    found = difflib.get_close_matches(word.casefold(), list(known), n=1, cutoff=0.6)
    return found[0] if found else ""


class Kind(enum.Enum):
    WORD = "word"
    STRING = "string"
    OPERATOR = "operator"
    LPAREN = "("
    RPAREN = ")"
    COMMA = ","
    END = "end"


@dataclass(frozen=True, slots=True)
class Token:
    kind: Kind
    text: str
    position: int

    def is_keyword(self, word: str) -> bool:
        return self.kind is Kind.WORD and self.text.casefold() == word


def tokenize(text: str) -> list[Token]:
    """The tokens of ``text``, ending with an END token; raises on an unknown operator or an
    unclosed quote."""
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch in "(),":
            kind = {"(": Kind.LPAREN, ")": Kind.RPAREN, ",": Kind.COMMA}[ch]
            tokens.append(Token(kind, ch, i + 1))
            i += 1
        elif ch in "'\"":
            end = text.find(ch, i + 1)
            if end < 0:
                raise SegmentRuleError("segment.unclosed_quote", text[i : i + 20], i + 1)
            tokens.append(Token(Kind.STRING, text[i + 1 : end], i + 1))
            i = end + 1
        elif ch in _OPERATOR_CHARS:
            j = i
            while j < n and text[j] in _OPERATOR_CHARS:
                j += 1
            word = text[i:j]
            if word not in OPERATORS:
                raise SegmentRuleError(
                    "segment.unknown_operator", word, i + 1, suggest(word, OPERATORS)
                )
            tokens.append(Token(Kind.OPERATOR, word, i + 1))
            i = j
        else:
            j = i
            while j < n and not text[j].isspace() and text[j] not in _SPECIAL:
                j += 1
            tokens.append(Token(Kind.WORD, text[i:j], i + 1))
            i = j
    tokens.append(Token(Kind.END, "", n + 1))
    return tokens


#: a value after parsing: a whole number, an amount or share, a word, or yes/no
Scalar = int | Decimal | str | bool


@dataclass(frozen=True, slots=True)
class Condition:
    """``field op values``; ``days`` is the N of a ``_Nd`` field (``visits_90d``)."""

    field: str
    op: str  # one of OPERATORS, or "in" / "not in"
    values: tuple[Scalar, ...]
    position: int
    days: int | None = None
    #: the words as typed, for error messages raised after parsing (unknown branch, tier…)
    words: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True, slots=True)
class And:
    items: tuple[Rule, ...]


@dataclass(frozen=True, slots=True)
class Or:
    items: tuple[Rule, ...]


@dataclass(frozen=True, slots=True)
class Not:
    item: Rule


Rule = Condition | And | Or | Not


def conditions(rule: Rule) -> Iterable[Condition]:
    """Every condition of ``rule``, left to right."""
    if isinstance(rule, Condition):
        yield rule
    elif isinstance(rule, Not):
        yield from conditions(rule.item)
    else:
        for item in rule.items:
            yield from conditions(item)
