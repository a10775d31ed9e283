"""Campaign message templates: whitelisted ``{placeholders}``, checked when saved.

The owner's text is parsed by our own tokenizer and rendered from the tokens, never passed to
``str.format`` (which would allow ``{name.__class__}``, ``{name[0]}``, ``{points!r}`` and format
specs that reach into Python objects). ``{{`` and ``}}`` are literal braces; anything else in
braces that is not exactly a whitelisted name is refused with the offending word.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Final

from bot.core.errors import InvalidInput

#: every placeholder a campaign may use; the values come from the member and the offer
PLACEHOLDERS: Final = ("name", "points", "tier", "branch", "coupon", "expires", "shop")
MAX_TEMPLATE_LENGTH: Final = 2000


class TemplateError(InvalidInput):
    """A template that cannot be saved; ``word`` is what was wrong, ``position`` its offset."""

    key = "campaign.template_unknown"

    def __init__(self, key: str, word: str, position: int) -> None:
        super().__init__(
            key,
            word=word,
            position=position + 1,
            allowed=", ".join(f"{{{p}}}" for p in PLACEHOLDERS),
        )
        self.word = word
        self.position = position


@dataclass(frozen=True, slots=True)
class Placeholder:
    name: str


Token = str | Placeholder


def parse_template(text: str) -> list[Token]:
    """The template as literal strings and placeholders; raises :class:`TemplateError`."""
    return list(_parsed(text))


@functools.lru_cache(maxsize=256)
def _parsed(text: str) -> tuple[Token, ...]:
    # a launch renders the same template for every member: parse it once (errors are raised
    # each time, lru_cache keeps only results)
    if not text.strip():
        raise TemplateError("campaign.template_empty", "", 0)
    if len(text) > MAX_TEMPLATE_LENGTH:
        raise TemplateError("campaign.template_too_long", str(MAX_TEMPLATE_LENGTH), 0)
    tokens: list[Token] = []
    literal: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char in "{}" and text[i + 1 : i + 2] == char:
            literal.append(char)
            i += 2
            continue
        if char == "}":
            raise TemplateError("campaign.template_unbalanced", "}", i)
        if char != "{":
            literal.append(char)
            i += 1
            continue
        end = text.find("}", i + 1)
        nested = text.find("{", i + 1)
        if end < 0 or 0 <= nested < end:
            raise TemplateError("campaign.template_unbalanced", "{", i)
        name = text[i + 1 : end]
        if name not in PLACEHOLDERS:
            raise TemplateError("campaign.template_unknown", "{" + name + "}", i)
        if literal:
            tokens.append("".join(literal))
            literal = []
        tokens.append(Placeholder(name))
        i = end + 1
    if literal:
        tokens.append("".join(literal))
    return tuple(tokens)


def template_tokens(text: str) -> tuple[Token, ...]:
    """The template's tokens, parsed once per distinct text (a launch renders the same template
    for every member; ``wording.templates.render_template`` fills them in)."""
    return _parsed(text)


def validate_template(text: str) -> str:
    """``text`` unchanged when it can be saved; raises :class:`TemplateError` otherwise."""
    parse_template(text)
    return text


def placeholders_in(text: str) -> frozenset[str]:
    """The placeholder names ``text`` uses; raises :class:`TemplateError`."""
    return frozenset(token.name for token in _parsed(text) if isinstance(token, Placeholder))
