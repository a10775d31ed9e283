"""Saving a segment: the name rules and the checks every new rule passes (typed or from the
wizard), in one place."""

from __future__ import annotations

import re
import unicodedata
from typing import Final

from bot.core.errors import InvalidInput
from bot.core.messages import Reply
from handlers.context import Context
from shop.campaigns.launch import segment_env
from storage.segments import (
    BUILTIN_SEGMENTS,
    SegmentRuleError,
    audience_size,
    check_rule,
    compile_rule,
    parse_rule,
    with_saved,
)

MAX_NAME: Final = 40
_NAME: Final = re.compile(r"[a-z0-9_\-\u0E00-\u0E7F]{1,40}")


def rule_error(ctx: Context, error: SegmentRuleError) -> Reply:
    """A rule error in the reader's language, naming the word, its position and a suggestion."""
    return Reply(text=ctx.t(error.key, **error.params))


def check_name(text: str) -> str:
    """The segment name ``text`` means (NFC, lower case); refuses bad characters and the
    built-in names."""
    name = unicodedata.normalize("NFC", text.strip()).casefold()
    if not _NAME.fullmatch(name):
        raise InvalidInput("segment.name_invalid", name=text[: MAX_NAME + 1], max=MAX_NAME)
    if name in BUILTIN_SEGMENTS:
        raise InvalidInput("segment.name_builtin", name=name)
    return name


async def create(ctx: Context, name_text: str, rule_text: str) -> list[Reply]:
    """Validate the name and the rule (against the shop's branches and segments), save, audit
    ``segment.created``, and say how many members it holds now."""
    name = check_name(name_text)
    if await ctx.uow.segments.by_name(name) is not None:
        return [ctx.reply("segment.name_taken", name=name)]
    env = await with_saved(ctx.uow, await segment_env(ctx.uow, ctx.now, ctx.settings.tz))
    try:
        rule = parse_rule(rule_text)
        await check_rule(ctx.uow, rule)
        size = await audience_size(ctx.uow, compile_rule(rule, env))
    except SegmentRuleError as error:
        return [rule_error(ctx, error)]
    await ctx.uow.segments.add(name, rule_text, ctx.actor, ctx.now)
    await ctx.uow.audit.record(
        ctx.actor, "segment.created", ctx.now, channel=ctx.channel, name=name, rule=rule_text
    )
    return [Reply(text=ctx.tn("segment.created", size, name=name, rule=rule_text))]
