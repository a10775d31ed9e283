"""/settings → Automations: switch each automation on/off and type its main numbers.

The automations of :mod:`jobs.automations` keep their settings in the ``automations`` shop
setting (one JSON object per automation, read by ``automation_config`` over ``DEFAULTS``); the
post-purchase feedback and the owner's digest keep theirs in their own ``feedback`` and
``digest`` settings. A change rewrites only the edited field of the edited automation, so keys
written by other parts of the product survive, and is audited ``settings.changed`` with the
value before and after.

Buttons are ``set:au…`` actions (owner only, enforced by the router). A typed value goes
through the ``setv`` flow, step ``auto``, whose role check is in ``settings.settings_step``.
"""

from __future__ import annotations

from typing import Any, Final

from bot.core.errors import InvalidInput
from bot.core.messages import Button, Reply
from handlers.context import Context
from handlers.staff.settings.actions import settings_code
from handlers.staff.settings.store import changed_by
from shop.automation_settings import (
    AUTOMATIONS,
    BY_NAME,
    Automation,
    load_values,
    set_number,
    switch_to,
)
from shop.settings_values import TEXT_AUTOMATIONS

FLOW: Final = "setv"
STEP: Final = "auto"


async def _load(ctx: Context, automation: Automation) -> tuple[dict[str, Any], dict[str, Any]]:
    return await load_values(ctx.uow, automation)


def _label(ctx: Context, name: str) -> str:
    return ctx.t(f"auto.label_{name}")


def _state(ctx: Context, enabled: Any) -> str:
    return ctx.t("auto.settings_on" if enabled else "auto.settings_off")


#: automation → catalog placeholder → field of its settings (what ``auto.detail_*`` shows)
DETAILS: Final[dict[str, dict[str, str]]] = {
    "birthday": {"hour": "hour", "days": "days_before", "holdout": "holdout_pct"},
    "winback": {
        "days": "lapsed_days",
        "cooldown": "cooldown_days",
        "tries": "max_tries",
        "holdout": "holdout_pct",
    },
    "expiry": {"days": "remind_days", "holdout": "holdout_pct"},
    "tiers": {"day": "review_day", "holdout": "holdout_pct"},
    "feedback": {"hours": "after_hours", "holdout": "holdout_pct"},
    "digest": {"hour": "hour"},
    "digest_managers": {},
}


def _detail(ctx: Context, name: str, values: dict[str, Any]) -> str:
    params = {placeholder: values[field] for placeholder, field in DETAILS[name].items()}
    return ctx.t(f"auto.detail_{name}", **params)


async def show_automations(ctx: Context) -> list[Reply]:
    """The list: one line per automation (state, main numbers), a switch and an edit button."""
    lines = [ctx.t("auto.settings_title")]
    toggles: list[Button] = []
    edits: list[Button] = []
    for automation in AUTOMATIONS:
        _, values = await _load(ctx, automation)
        label = _label(ctx, automation.name)
        state = _state(ctx, values[automation.switch])
        detail = _detail(ctx, automation.name, values)
        lines.append(ctx.t("auto.settings_line", state=state, label=label, detail=detail))
        # the switch names the state it sets: a second press never undoes the first
        to = "off" if values[automation.switch] else "on"
        toggles.append(Button(f"{state} {label}"[:40], settings_code("aut", automation.name, to)))
        if automation.fields:
            edits.append(
                Button(ctx.t("auto.edit", label=label)[:40], settings_code("aup", automation.name))
            )
    buttons = (*toggles, *edits, Button(ctx.t("settings.back"), settings_code("home")))
    return [Reply(text="\n".join(lines), buttons=buttons)]


async def switch(ctx: Context, name: str, on: bool) -> list[Reply]:
    """Switch one automation on or off, as its button says (already so: nothing changes, and
    the list shows it as it is)."""
    automation = BY_NAME.get(name)
    if automation is None:
        return [ctx.reply("error.button_expired")]
    await switch_to(ctx.uow, changed_by(ctx), automation, on)
    confirm = ctx.reply("auto.toggled", label=_label(ctx, name), state=_state(ctx, on))
    return [confirm, *await show_automations(ctx)]


async def show_automation(ctx: Context, name: str) -> list[Reply]:
    """One automation's page: a button per number the owner may change."""
    automation = BY_NAME.get(name)
    if automation is None:
        return [ctx.reply("error.button_expired")]
    _, values = await _load(ctx, automation)
    text = ctx.t(
        "auto.settings_line",
        state=_state(ctx, values[automation.switch]),
        label=_label(ctx, name),
        detail=_detail(ctx, name, values),
    )
    buttons = [
        Button(ctx.t(f"auto.field_{field}")[:40], settings_code("aue", name, field))
        for field in automation.fields
    ]
    if name in TEXT_AUTOMATIONS:
        buttons.append(Button(ctx.t("prefs.edit_texts"), settings_code("atx", name)))
    buttons.append(Button(ctx.t("settings.back"), settings_code("auto")))
    return [Reply(text=text, buttons=tuple(buttons))]


async def start_edit(ctx: Context, name: str, field: str) -> list[Reply]:
    """Ask for the new value of one number (``setv`` flow, step ``auto``)."""
    automation = BY_NAME.get(name)
    if automation is None or field not in automation.fields:
        return [ctx.reply("error.button_expired")]
    ctx.begin(FLOW, STEP, {"name": name, "field": field})
    return [await _ask(ctx, automation, field)]


async def _ask(ctx: Context, automation: Automation, field: str) -> Reply:
    _, values = await _load(ctx, automation)
    low, high = automation.fields[field]
    text = ctx.t(
        "auto.ask",
        label=_label(ctx, automation.name),
        field=ctx.t(f"auto.field_{field}"),
        current=values[field],
        low=low,
        high=high,
    )
    return Reply(text=text, buttons=(Button(ctx.t("settings.cancel"), f"{FLOW}:cancel"),))


async def value_step(ctx: Context) -> list[Reply]:
    """The typed value: validated (a refusal says the range and asks again), stored, audited.

    The caller (``settings_step``) has already checked that the sender is still an owner.
    """
    assert ctx.state is not None
    automation = BY_NAME.get(str(ctx.state.data.get("name")))
    field = str(ctx.state.data.get("field"))
    if automation is None or field not in automation.fields:
        ctx.finish()
        return [ctx.reply("error.button_expired")]
    if ctx.inbound.action:
        return [ctx.reply("settings.type_value")]
    try:
        await set_number(ctx.uow, changed_by(ctx), automation, field, ctx.inbound.text)
    except InvalidInput as error:
        return [ctx.reply(error.key, **error.params), await _ask(ctx, automation, field)]
    ctx.finish()
    return [ctx.reply("settings.saved"), *await show_automation(ctx, automation.name)]
