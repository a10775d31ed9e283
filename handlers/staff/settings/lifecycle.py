"""/settings → Lifecycle groups: the thresholds of new, returning, regular, fan, deal seeker
and lapsed (the ``lifecycle`` shop setting, :class:`storage.segments.lifecycle.LifecycleRules`).

A typed threshold is not saved at once: the owner first sees how many members each group would
hold with it, against today's counts ("new 120 → 180"), and saves or cancels (``setv`` flow,
steps ``life`` then ``life_ok``). Only the edited key of the stored JSON changes; the change is
audited with before/after. The new thresholds take effect wherever the segment engine reads
them: the built-in segments, the frequency caps' groups, /report.
"""

from __future__ import annotations

from typing import Any, Final

from bot.core.errors import InvalidInput
from bot.core.messages import Button, Reply
from bot.i18n import format_baht
from handlers.context import Context
from handlers.staff.settings.actions import settings_code
from handlers.staff.settings.store import changed_by
from shop.lifecycle_settings import current_rules as shop_rules
from shop.lifecycle_settings import impact, save_threshold
from shop.settings_values import LIFECYCLE_FIELDS, apply_lifecycle, lifecycle_value
from storage.segments.lifecycle import LifecycleRules

FLOW: Final = "setv"
STEP: Final = "life"
CONFIRM: Final = "life_ok"


def shown(ctx: Context, rules: LifecycleRules, field: str) -> str:
    """A threshold as people read it: 45, 5,000 baht, 50%."""
    value = getattr(rules, field)
    kind = LIFECYCLE_FIELDS[field][0]
    if kind == "baht":
        return format_baht(value, ctx.locale)
    if kind == "percent":
        return f"{(value * 100).normalize():f}%"
    return f"{value:,}"


async def current_rules(ctx: Context) -> LifecycleRules:
    return await shop_rules(ctx.uow)


def lifecycle_lines(ctx: Context, rules: LifecycleRules) -> list[str]:
    """The thresholds as the owner and the managers read them."""
    lines = [ctx.t("prefs.life_title")]
    lines += [
        ctx.t("prefs.life_line", label=ctx.t(f"prefs.life_{field}"), value=shown(ctx, rules, field))
        for field in LIFECYCLE_FIELDS
    ]
    return lines


async def show_lifecycle(ctx: Context) -> list[Reply]:
    rules = await current_rules(ctx)
    buttons = [
        Button(ctx.t(f"prefs.life_{field}")[:40], settings_code("lce", field))
        for field in LIFECYCLE_FIELDS
    ]
    buttons.append(Button(ctx.t("settings.back"), settings_code("home")))
    return [Reply(text="\n".join(lifecycle_lines(ctx, rules)), buttons=tuple(buttons))]


async def start_edit(ctx: Context, field: str) -> list[Reply]:
    if field not in LIFECYCLE_FIELDS:
        return [ctx.reply("error.button_expired")]
    ctx.begin(FLOW, STEP, {"field": field})
    return [await _ask(ctx, field)]


async def _ask(ctx: Context, field: str) -> Reply:
    rules = await current_rules(ctx)
    _, low, high = LIFECYCLE_FIELDS[field]
    text = ctx.t(
        f"prefs.ask_life_{field}", current=shown(ctx, rules, field), low=low, high=f"{high:,}"
    )
    return Reply(text=text, buttons=(Button(ctx.t("settings.cancel"), f"{FLOW}:cancel"),))


async def value_step(ctx: Context) -> list[Reply]:
    """The typed threshold: checked, then the members each group would hold, to confirm."""
    assert ctx.state is not None
    field = str(ctx.state.data.get("field"))
    if field not in LIFECYCLE_FIELDS:
        ctx.finish()
        return [ctx.reply("error.button_expired")]
    if ctx.inbound.action:
        return [ctx.reply("settings.type_value")]
    rules = await current_rules(ctx)
    try:
        changed = apply_lifecycle(rules, field, ctx.inbound.text)
    except InvalidInput as error:
        return [ctx.reply(error.key, **error.params), await _ask(ctx, field)]
    ctx.goto(CONFIRM, field=field, value=lifecycle_value(changed, field))
    return [await _impact(ctx, rules, changed, field)]


async def _impact(
    ctx: Context, rules: LifecycleRules, changed: LifecycleRules, field: str
) -> Reply:
    """ "With 45 days: new 120 → 180, lapsed 512 → 305 …" and Save / Cancel."""
    counts = await impact(ctx.uow, ctx.now, ctx.settings.tz, rules, changed)
    lines = [
        ctx.t(
            "prefs.life_impact",
            label=ctx.t(f"prefs.life_{field}"),
            before=shown(ctx, rules, field),
            after=shown(ctx, changed, field),
        )
    ]
    for group, count, then in counts:
        key = "prefs.life_count_changed" if then != count else "prefs.life_count_same"
        lines.append(
            ctx.t(
                key,
                group=ctx.t(f"report.group_{group}"),
                before=f"{count:,}",
                after=f"{then:,}",
            )
        )
    buttons = (
        Button(ctx.t("settings.save"), f"{FLOW}:save"),
        Button(ctx.t("settings.cancel"), f"{FLOW}:cancel"),
    )
    return Reply(text="\n".join(lines), buttons=buttons)


async def confirm_step(ctx: Context) -> list[Reply]:
    """Save (the value shown with its counts) or a reminder to use the buttons."""
    assert ctx.state is not None
    field = str(ctx.state.data.get("field"))
    value: Any = ctx.state.data.get("value")
    if field not in LIFECYCLE_FIELDS or value is None:
        ctx.finish()
        return [ctx.reply("error.button_expired")]
    if not (ctx.inbound.action and ctx.args == "save"):
        return [ctx.reply("settings.use_buttons")]
    try:  # checked again: another change may have moved the other thresholds meanwhile
        await save_threshold(ctx.uow, changed_by(ctx), field, value)
    except InvalidInput as error:
        ctx.finish()
        return [ctx.reply(error.key, **error.params), *await show_lifecycle(ctx)]
    ctx.finish()
    return [ctx.reply("settings.saved"), *await show_lifecycle(ctx)]
