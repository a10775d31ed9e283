"""``/segments`` and ``/segment new|show|delete`` (managers and owners): who is in which group.

A saved segment is a name and a rule in the segment language (``storage.segments``); the rule
text is the one thing stored, also when the button wizard (``wizard``) wrote it.
Names are lower-case ``[a-z0-9_-]`` or Thai, at most 40 characters, and never a built-in's
name. Sizes are counted by one SQL query each, never member by member.

Deleting asks first (``seg:del:<id>`` then ``seg:delok:<id>``); both buttons are re-checked
for the manager role by the router. Creations and deletions are audited.
"""

from __future__ import annotations

from typing import Final

from bot.core.ids import row_id
from bot.core.messages import Button, Reply
from bot.i18n import channel_name, format_number
from handlers.context import Context
from handlers.router import Audience, Command, Router
from handlers.staff.segments import wizard
from handlers.staff.segments.save import MAX_NAME, check_name, create, rule_error
from shop.campaigns.launch import segment_env
from storage.segments import (
    BUILTIN_SEGMENTS,
    SegmentRuleError,
    audience_size,
    builtin_rules,
    compile_rule,
    parse_rule,
    resolve_segment,
    with_saved,
)

ACTIONS: Final = "seg"
SAMPLES: Final = 5


def register(router: Router) -> None:
    """``/segments``, ``/segment`` (managers+), the ``seg:`` buttons and the wizard's flow."""
    router.command(
        Command("segments", list_segments, Audience.MANAGER, describe="segment.cmd_segments")
    )
    # /segment stays out of the menus (they hold 12 buttons): /segments shows how to use it
    router.command(Command("segment", segment_command, Audience.MANAGER))
    router.action(ACTIONS, on_button, Audience.MANAGER)
    router.flow(wizard.FLOW, wizard.wizard_step, Audience.MANAGER)


async def list_segments(ctx: Context) -> list[Reply]:
    """``/segments``: the built-in lifecycle segments and the saved ones, with current sizes."""
    env = await with_saved(ctx.uow, await segment_env(ctx.uow, ctx.now, ctx.settings.tz))
    lines = [ctx.t("segment.list_title"), ctx.t("segment.builtin_heading")]
    for name, rule in builtin_rules(env.lifecycle).items():
        size = await audience_size(ctx.uow, compile_rule(parse_rule(rule), env))
        label = ctx.t(f"segment.builtin_{name}")
        lines.append(ctx.tn("segment.builtin_line", size, name=name, label=label))
    saved = await ctx.uow.segments.all()
    lines.append(ctx.t("segment.saved_heading", count=len(saved)))
    for segment in saved:
        try:
            size = await audience_size(ctx.uow, compile_rule(parse_rule(segment.rule), env))
        except SegmentRuleError:  # a rule naming a segment deleted since: say so, list the rest
            lines.append(ctx.t("segment.saved_line_broken", name=segment.name, rule=segment.rule))
        else:
            lines.append(ctx.tn("segment.saved_line", size, name=segment.name, rule=segment.rule))
    lines.append(ctx.t("segment.list_footer"))
    return [Reply(text="\n".join(lines))]


async def segment_command(ctx: Context) -> list[Reply]:
    """``/segment new NAME RULE`` saves (``/segment new [NAME]`` opens the wizard),
    ``/segment show NAME`` describes, ``/segment delete NAME`` asks to delete."""
    sub, _, rest = ctx.args.strip().partition(" ")
    sub, rest = sub.casefold(), rest.strip()
    if sub in ("new", "ใหม่", "สร้าง"):
        name, _, rule = rest.partition(" ")
        if not rule.strip():
            return await wizard.start(ctx, check_name(name) if name else None)
        return await create(ctx, name, rule.strip())
    if sub in ("show", "ดู") and rest:
        return await show(ctx, rest)
    if sub in ("delete", "ลบ") and rest:
        return await ask_delete(ctx, rest)
    return [ctx.reply("segment.usage")]


async def show(ctx: Context, name: str) -> list[Reply]:
    """Size, breakdown by reachable channel and by marketing consent, and five members."""
    key = name.strip().casefold()
    env = await segment_env(ctx.uow, ctx.now, ctx.settings.tz)
    if key not in BUILTIN_SEGMENTS and await ctx.uow.segments.by_name(key) is None:
        return [ctx.reply("segment.not_found", name=name[:MAX_NAME])]
    try:
        rule, members = await resolve_segment(ctx.uow, key, env)
    except SegmentRuleError as error:
        return [rule_error(ctx, error)]
    size = await audience_size(ctx.uow, members)
    lines = [
        ctx.tn("segment.show_title", size, name=key),
        ctx.t("segment.show_rule", rule=rule),
    ]
    channels = await ctx.uow.audiences.reachable_by_channel(members)
    parts = [
        f"{channel_name(ctx.locale, channel)} {format_number(count, ctx.locale)}"
        for channel, count in channels.items()
    ] or ["-"]
    lines.append(ctx.t("segment.by_channel", channels=", ".join(parts)))
    consent = await ctx.uow.audiences.by_marketing_consent(members)
    lines.append(ctx.t("segment.by_consent", yes=consent.get(True, 0), no=consent.get(False, 0)))
    sample = await ctx.uow.audiences.first_members(members, SAMPLES)
    lines.append(ctx.t("segment.samples") if sample else ctx.t("segment.no_samples"))
    for member_name, code in sample:
        lines.append(ctx.t("segment.sample_line", name=member_name or "-", code=code))
    return [Reply(text="\n".join(lines))]


async def ask_delete(ctx: Context, name: str) -> list[Reply]:
    key = name.strip().casefold()
    if key in BUILTIN_SEGMENTS:
        return [ctx.reply("segment.builtin_no_delete", name=key)]
    segment = await ctx.uow.segments.by_name(key)
    if segment is None:
        return [ctx.reply("segment.not_found", name=name[:MAX_NAME])]
    yes = Button(ctx.t("segment.delete_yes"), f"{ACTIONS}:delok:{segment.id}")
    no = Button(ctx.t("segment.delete_no"), f"{ACTIONS}:keep")
    return [Reply(text=ctx.t("segment.delete_confirm", name=segment.name), buttons=(yes, no))]


async def on_button(ctx: Context) -> list[Reply]:
    """``seg:delok:<id>`` deletes (audited ``segment.deleted``), ``seg:keep`` keeps."""
    verb, _, rest = ctx.args.partition(":")
    if verb == "keep":
        return [ctx.reply("segment.kept")]
    segment_id = row_id(rest)
    if verb != "delok" or segment_id is None:
        return [ctx.reply("error.button_expired")]
    segment = next((s for s in await ctx.uow.segments.all() if s.id == segment_id), None)
    if segment is None:
        return [ctx.reply("segment.already_deleted")]
    await ctx.uow.segments.delete(segment.id)
    await ctx.uow.audit.record(
        ctx.actor,
        "segment.deleted",
        ctx.now,
        channel=ctx.channel,
        name=segment.name,
        rule=segment.rule,
    )
    return [ctx.reply("segment.deleted", name=segment.name)]
