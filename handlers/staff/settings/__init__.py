"""/settings (owner; managers read part of it): the reward catalog, the loyalty rules, the
automations, the contact policy, the lifecycle thresholds and the tier names, by buttons.

Menu buttons are ``set:…`` actions, which the router lets through for owners only, whatever a
button claims. Typed answers (a name, a cost, a tier table) go through the ``setv`` flow, which the
router also keeps to owners at every step — a staff account removed or demoted half-way cannot
finish what it started.
"""

from __future__ import annotations

from typing import Final

from bot.core.ids import row_id
from bot.core.messages import Button, Reply
from handlers.branch_pages import page_number
from handlers.context import Context
from handlers.router import Audience, Command, Router, has_role
from handlers.staff.settings import automations, catalog, rewards, rules, shop, shop_prefs
from handlers.staff.settings.actions import ACTIONS, SettingsAction, settings_code

FLOW: Final = "setv"


async def show_settings(ctx: Context) -> list[Reply]:
    """/settings: the owner's top menu; a manager's read-only view."""
    if not has_role(ctx, Audience.OWNER):
        return await shop_prefs.manager_view(ctx)
    buttons = (
        Button(ctx.t("settings.menu_rewards"), settings_code("rw")),
        Button(ctx.t("settings.menu_rules"), settings_code("rules")),
        Button(ctx.t("auto.menu"), settings_code("auto")),
        *shop_prefs.menu_buttons(ctx),
        Button(ctx.t("shopset.menu"), f"{shop.ACTIONS}:home"),
        Button(ctx.t("branches.menu"), "brn:list"),
    )
    return [Reply(text=ctx.t("settings.title"), buttons=buttons)]


async def settings_action(ctx: Context) -> list[Reply]:
    """A ``set:`` button (owner only, checked by the router): open a page or start an edit."""
    pressed = SettingsAction.parse(ctx.inbound.action or "")
    if pressed is None:
        return [ctx.reply("error.button_expired")]
    verb, args = pressed.verb, pressed.args
    ids = [number for number in map(row_id, args[:1]) if number is not None]
    if ctx.state is not None and ctx.state.flow == FLOW:
        ctx.finish()  # a menu button leaves a half-typed edit behind
    if verb == "home":
        return await show_settings(ctx)
    if verb == "rw" and not args:
        return await catalog.list_rewards(ctx)
    if verb == "rwp" and len(args) == 1:
        return await catalog.list_rewards(ctx, page_number(args[0]))
    if verb == "rwadd":
        return rewards.start_add(ctx)
    if verb == "rw" and ids:
        return await catalog.show_reward(ctx, ids[0])
    if verb == "rwe" and ids and len(args) == 2:
        return rewards.start_edit(ctx, ids[0], args[1])
    if verb == "rwt" and ids and (switched := _switched_to(args[1:])) is not None:
        return await catalog.switch_reward(ctx, ids[0], switched)
    if verb == "rules":
        return await rules.show_rules(ctx)
    if verb == "rule" and len(args) == 1:
        return await rules.start_rule(ctx, args[0])
    if verb.startswith("au"):
        return await _automations_action(ctx, verb, args)
    if verb in shop_prefs.VERBS:
        return await shop_prefs.action(ctx, verb, args)
    return [ctx.reply("error.button_expired")]


def _switched_to(state: tuple[str, ...]) -> bool | None:
    """The state a switch button sets: ``on`` or ``off``; None for anything else. A button
    without one is from a card sent when switches toggled (its only switch, from before): read
    as ``off``, so a stale card never turns anything on (pressed on something off already, it
    just shows it, with the button to turn it on)."""
    if not state:
        return False
    return {"on": True, "off": False}.get(state[0]) if len(state) == 1 else None


async def _automations_action(ctx: Context, verb: str, rest: tuple[str, ...]) -> list[Reply]:
    """``set:auto`` (list), ``set:aut:NAME:on|off`` (switch), ``set:aup:NAME`` (page),
    ``set:aue:NAME:FIELD`` (typed edit)."""
    if verb == "auto" and not rest:
        return await automations.show_automations(ctx)
    if verb == "aut" and rest and (switched := _switched_to(rest[1:])) is not None:
        return await automations.switch(ctx, rest[0], switched)
    if verb == "aup" and len(rest) == 1:
        return await automations.show_automation(ctx, rest[0])
    if verb == "aue" and len(rest) == 2:
        return await automations.start_edit(ctx, rest[0], rest[1])
    return [ctx.reply("error.button_expired")]


async def settings_step(ctx: Context) -> list[Reply]:
    """A typed answer or a flow button of an edit in progress (owner only, checked by the
    router at every step)."""
    assert ctx.state is not None
    if ctx.inbound.action and ctx.args == "cancel":
        ctx.finish()
        return [ctx.reply("settings.cancelled"), *await show_settings(ctx)]
    step = ctx.state.step
    if step.startswith("add_"):
        return await rewards.add_step(ctx)
    if step.startswith("edit_"):
        return await rewards.edit_step(ctx)
    if step == "rule":
        if ctx.inbound.action:
            return [ctx.reply("settings.type_value")]
        return await rules.rule_step(ctx)
    if step == automations.STEP:
        return await automations.value_step(ctx)
    if step in shop_prefs.STEPS:
        return await shop_prefs.STEPS[step](ctx)
    ctx.finish()
    return [ctx.reply("error.button_expired")]


def register(router: Router) -> None:
    router.command(
        Command(
            "settings",
            show_settings,
            Audience.MANAGER,
            describe="settings.cmd_settings",
        )
    )
    router.action(ACTIONS, settings_action, Audience.OWNER)
    router.flow(FLOW, settings_step, Audience.OWNER)
    shop.register(router)
