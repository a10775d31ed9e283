"""From what a person typed (a segment name or a rule) to a compiled audience."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import Select, func, select

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


async def check_rule(uow: UnitOfWork, rule: Rule) -> None:
    """Values that only the database knows: every branch named must exist (by code, English
    or Thai name). Raises :class:`SegmentRuleError` with a suggestion otherwise."""
    branches = (await session_of(uow).execute(select(Branch))).scalars().all()
    known: set[str] = set()
    for branch in branches:
        known |= {branch.code.casefold(), branch.name_en.casefold(), branch.name_th.casefold()}
    for cond in conditions(rule):
        if cond.field not in ("branch", "home_branch"):
            continue
        for value, (word, position) in zip(cond.values, cond.words, strict=True):
            if str(value) not in known:
                # a rule may still name a closed branch (its history), but none is suggested
                codes = sorted(branch.code for branch in branches if branch.active)
                raise SegmentRuleError(
                    "segment.unknown_branch", word, position, suggest(str(value), codes)
                )


async def resolve_segment(
    uow: UnitOfWork, name_or_rule: str, env: SegmentEnv
) -> tuple[str, Select[Any]]:
    """``(rule text, compiled audience)`` for a built-in segment's name, a saved segment's
    name, or a rule typed inline (checked against the shop's branches). The rule text is what
    a campaign keeps as its snapshot. Raises :class:`SegmentRuleError` for a bad rule."""
    text = name_or_rule.strip()
    env = await with_saved(uow, env)
    builtins = builtin_rules(env.lifecycle)
    saved = {name.casefold(): rule for name, rule in env.saved.items()}
    rule_text = builtins.get(text.casefold()) or saved.get(text.casefold()) or text
    rule = parse_rule(rule_text)
    await check_rule(uow, rule)
    return rule_text, compile_rule(rule, env)


async def audience_size(uow: UnitOfWork, members: Select[Any]) -> int:
    """How many members a compiled audience holds (one ``count(*)`` query)."""
    query = select(func.count()).select_from(members.subquery())
    return int((await session_of(uow).execute(query)).scalar_one())
