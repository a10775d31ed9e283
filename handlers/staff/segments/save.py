"""Saving a segment from the chat: the checks every new rule passes (typed or from the
wizard) are :mod:`shop.segments`'s, shared with the web console."""

from __future__ import annotations

from bot.core.messages import Reply
from handlers.staff.acting import StaffAct
from shop.segments import MAX_NAME, check_name, checked_rule
from storage.segments import SegmentRuleError

__all__ = ["MAX_NAME", "check_name", "create", "rule_error", "try_create"]


def rule_error(ctx: StaffAct, error: SegmentRuleError) -> Reply:
    """A rule error in the reader's language, naming the word, its position and a suggestion."""
    return Reply(text=ctx.t(error.key, **error.params))


async def create(ctx: StaffAct, name_text: str, rule_text: str) -> list[Reply]:
    """Validate the name and the rule (against the shop's branches and segments), save, audit
    ``segment.created``, and say how many members it holds now."""
    _, replies = await try_create(ctx, name_text, rule_text)
    return replies


async def try_create(ctx: StaffAct, name_text: str, rule_text: str) -> tuple[bool, list[Reply]]:
    """:func:`create`, and whether it saved the segment (False: the replies say why not)."""
    name = check_name(name_text)
    taken = [ctx.reply("segment.name_taken", name=name)]
    if await ctx.uow.segments.by_name(name) is not None:
        return False, taken
    try:
        # kept with its branches named by code: a renamed branch stays in the segment
        rule_text, size = await checked_rule(ctx.uow, rule_text, ctx.now, ctx.settings.tz)
    except SegmentRuleError as error:
        return False, [rule_error(ctx, error)]
    if not await ctx.uow.segments.add(name, rule_text, ctx.actor, ctx.now):
        return False, taken  # saved by another request since the look-up (a double click)
    await ctx.uow.audit.record(
        ctx.actor, "segment.created", ctx.now, channel=ctx.channel, name=name, rule=rule_text
    )
    return True, [Reply(text=ctx.tn("segment.created", size, name=name, rule=rule_text))]
