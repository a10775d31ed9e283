"""From what a person typed (a segment name or a rule) to a compiled audience."""

from __future__ import annotations

import unicodedata
from dataclasses import replace
from typing import Any, Final

from sqlalchemy import Select, func, select

from storage.branch_names import BranchNames, SharedBranchName, UnknownBranch
from storage.models import Branch
from storage.raw_session import session_of
from storage.segments.compiler import compile_rule
from storage.segments.env import SegmentEnv
from storage.segments.lifecycle import builtin_rules
from storage.segments.parser import parse_rule
from storage.segments.syntax import Rule, SegmentRuleError, conditions, suggest
from storage.uow import UnitOfWork


async def with_saved(uow: UnitOfWork, env: SegmentEnv) -> SegmentEnv:
    """``env`` with every saved segment's rule, for ``segment = NAME``."""
    saved = {segment.name: segment.rule for segment in await uow.segments.all()}
    return replace(env, saved=saved)


#: the characters that end a bare word (as :func:`storage.segments.syntax.tokenize` reads it)
_ENDS_WORD: Final = frozenset("()=!<>,'\"")


def _fold(text: str) -> str:
    """A branch's code or name compared as the parser folds a rule's words."""
    return unicodedata.normalize("NFC", text.strip()).casefold()


async def branch_codes(uow: UnitOfWork, rule: Rule) -> dict[int, str]:
    """The code of each branch ``rule`` names, by the position of the word naming it: a code
    names that branch only, a Thai or English name only when it is no branch's code
    (:mod:`storage.branch_names`). Raises :class:`SegmentRuleError` for a word naming no
    branch (with a suggestion) or a name two branches share (with their codes)."""
    branches = (await session_of(uow).execute(select(Branch))).scalars().all()
    names = BranchNames(((b.id, b.code, b.name_th, b.name_en) for b in branches), _fold)
    codes: dict[int, str] = {}
    for cond in conditions(rule):
        if cond.field not in ("branch", "home_branch"):
            continue
        for value, (word, position) in zip(cond.values, cond.words, strict=True):
            try:
                codes[position] = names.find(str(value))[1]
            except SharedBranchName as shared:
                raise SegmentRuleError(
                    "segment.shared_branch", word, position, ", ".join(shared.codes)
                ) from None
            except UnknownBranch:
                # a rule may still name a closed branch (its history), but none is suggested
                open_codes = sorted(branch.code for branch in branches if branch.active)
                raise SegmentRuleError(
                    "segment.unknown_branch", word, position, suggest(str(value), open_codes)
                ) from None
    return codes


async def check_rule(uow: UnitOfWork, rule: Rule) -> None:
    """Values that only the database knows: every branch named must exist (by code, English
    or Thai name) and a name must be one branch's. Raises :class:`SegmentRuleError` with a
    suggestion otherwise."""
    await branch_codes(uow, rule)


def with_codes(text: str, codes: dict[int, str]) -> str:
    """``text`` with the branch words at ``codes``' positions (1-based, a quoted name from its
    quote) replaced by their codes."""
    for position, code in sorted(codes.items(), reverse=True):
        start = position - 1
        quote = text[start]
        if quote in "'\"":
            end = text.index(quote, start + 1) + 1
        else:
            end = start
            while end < len(text) and not text[end].isspace() and text[end] not in _ENDS_WORD:
                end += 1
        text = text[:start] + code + text[end:]
    return text


async def canonical_rule(uow: UnitOfWork, text: str) -> tuple[str, Rule]:
    """``text`` as it is kept, with every branch named by its code (a name is for display and
    changes when the owner renames the branch; the code stays), and the rule it holds; raises
    :class:`SegmentRuleError` as :func:`parse_rule` and :func:`check_rule` do."""
    rule = parse_rule(text)
    canonical = with_codes(text, await branch_codes(uow, rule))
    return (text, rule) if canonical == text else (canonical, parse_rule(canonical))


async def resolve_segment(
    uow: UnitOfWork, name_or_rule: str, env: SegmentEnv
) -> tuple[str, Select[Any]]:
    """``(rule text, compiled audience)`` for a built-in segment's name, a saved segment's
    name, or a rule typed inline (checked against the shop's branches). The rule text is what
    a campaign keeps as its snapshot, its branches named by code (:func:`canonical_rule`), so
    renaming a branch leaves it meaning the same members. Raises :class:`SegmentRuleError`
    for a bad rule."""
    text = name_or_rule.strip()
    env = await with_saved(uow, env)
    builtins = builtin_rules(env.lifecycle)
    saved = {name.casefold(): rule for name, rule in env.saved.items()}
    rule_text = builtins.get(text.casefold()) or saved.get(text.casefold()) or text
    rule_text, rule = await canonical_rule(uow, rule_text)
    return rule_text, compile_rule(rule, env)


async def audience_size(uow: UnitOfWork, members: Select[Any]) -> int:
    """How many members a compiled audience holds (one ``count(*)`` query)."""
    query = select(func.count()).select_from(members.subquery())
    return int((await session_of(uow).execute(query)).scalar_one())
