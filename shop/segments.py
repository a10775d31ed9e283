"""A saved segment's name and rule: the checks every new or changed segment passes, from the
chat (``/segment new``, its wizard) or the web console.

Names are lower-case ``[a-z0-9_-]`` or Thai, at most :data:`MAX_NAME` characters, never a
built-in's name. A rule must parse and name only the shop's branches and saved segments; its
size is counted by one SQL query. A branch named by its Thai or English name is kept by its
code (``branch in (สุขุมวิท)`` is saved as ``branch in (sukhumvit)``): the owner may rename a
branch, and the segment goes on meaning the same members.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from typing import Final
from zoneinfo import ZoneInfo

from bot.core.errors import InvalidInput
from shop.campaigns.launch import segment_env
from storage.segments import (
    BUILTIN_SEGMENTS,
    audience_size,
    canonical_rule,
    compile_rule,
    with_saved,
)
from storage.uow import UnitOfWork

MAX_NAME: Final = 40
MAX_RULE: Final = 1000
_NAME: Final = re.compile(r"[a-z0-9_\-\u0E00-\u0E7F]{1,40}")


def check_name(text: str) -> str:
    """The segment name ``text`` means (NFC, lower case); refuses bad characters and the
    built-in names."""
    name = unicodedata.normalize("NFC", text.strip()).casefold()
    if not _NAME.fullmatch(name):
        raise InvalidInput("segment.name_invalid", name=text[: MAX_NAME + 1], max=MAX_NAME)
    if name in BUILTIN_SEGMENTS:
        raise InvalidInput("segment.name_builtin", name=name)
    return name


async def rule_size(uow: UnitOfWork, rule_text: str, now: datetime, tz: ZoneInfo) -> int:
    """How many members ``rule_text`` holds now, after checking it against the shop's branches
    and saved segments; raises :class:`storage.segments.SegmentRuleError` (its key and
    params say what is wrong, where, and a suggestion)."""
    return (await checked_rule(uow, rule_text, now, tz))[1]


async def checked_rule(
    uow: UnitOfWork, rule_text: str, now: datetime, tz: ZoneInfo
) -> tuple[str, int]:
    """The rule text to save (its branches named by code) and how many members it holds now;
    raises as :func:`rule_size`."""
    env = await with_saved(uow, await segment_env(uow, now, tz))
    canonical, rule = await canonical_rule(uow, rule_text)
    return canonical, await audience_size(uow, compile_rule(rule, env))
