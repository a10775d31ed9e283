"""/settings → Contact policy: the quiet hours and the frequency caps per lifecycle group.

Both live in the ``contact_policy`` shop setting that :mod:`shop.contact_policy` reads (the
dispatcher defers promotions due in the quiet hours; the eligibility query leaves out members
whose group had its cap of promotions in the window). One entry is edited at a time (``setv``
flow, step ``policy``); only that entry of the stored JSON changes. Values are checked by
:mod:`shop.settings_values`; each change is audited with before/after.
"""

from __future__ import annotations

from typing import Final

from bot.core.errors import InvalidInput
from bot.core.messages import Button, Reply
from handlers.context import Context
from handlers.staff.settings.actions import settings_code
from handlers.staff.settings.store import changed_by
from shop.contact_policy import ContactPolicy, load_policy
from shop.settings_changes import quiet_hours, set_contact_policy, switch_quiet_hours_off
from shop.settings_values import CAP_GROUPS

FLOW: Final = "setv"
STEP: Final = "policy"


def _quiet(policy: ContactPolicy) -> list[str]:
    return quiet_hours(policy)


def _quiet_line(ctx: Context, policy: ContactPolicy) -> str:
    if not policy.has_quiet_hours:
        return ctx.t("prefs.quiet_line_off")
    start, end = _quiet(policy)
    return ctx.t("prefs.quiet_line", start=start, end=end, zone=str(ctx.settings.tz))


def policy_lines(ctx: Context, policy: ContactPolicy) -> list[str]:
    """The policy as the owner and the managers read it."""
    lines = [
        ctx.t("prefs.policy_title"),
        _quiet_line(ctx, policy),
        ctx.t("prefs.caps_line", days=policy.cap_days),
    ]
    lines += [
        ctx.t("prefs.cap_line", group=ctx.t(f"report.group_{group}"), cap=policy.cap_for(group))
        for group in CAP_GROUPS
    ]
    return lines


async def show_policy(ctx: Context) -> list[Reply]:
    policy = await load_policy(ctx.uow.settings)
    buttons = [
        Button(ctx.t("prefs.edit_quiet"), settings_code("cpe", "quiet")),
        Button(ctx.t("prefs.edit_cap_days"), settings_code("cpe", "days")),
    ]
    buttons += [
        Button(
            ctx.t("prefs.edit_cap", group=ctx.t(f"report.group_{group}"))[:40],
            settings_code("cpe", "cap", group),
        )
        for group in CAP_GROUPS
    ]
    buttons.append(Button(ctx.t("settings.back"), settings_code("home")))
    return [Reply(text="\n".join(policy_lines(ctx, policy)), buttons=tuple(buttons))]


async def start_edit(ctx: Context, args: tuple[str, ...]) -> list[Reply]:
    """``set:cpe:quiet``, ``set:cpe:days`` or ``set:cpe:cap:GROUP``: ask for the value;
    ``set:cpe:noquiet`` switches the quiet hours off at once."""
    if args == ("noquiet",):
        return await _switch_quiet_hours_off(ctx)
    if args in (("quiet",), ("days",)):
        field, group = args[0], ""
    elif len(args) == 2 and args[0] == "cap" and args[1] in CAP_GROUPS:
        field, group = args
    else:
        return [ctx.reply("error.button_expired")]
    ctx.begin(FLOW, STEP, {"field": field, "group": group})
    return [await _ask(ctx, field, group)]


async def _ask(ctx: Context, field: str, group: str) -> Reply:
    policy = await load_policy(ctx.uow.settings)
    buttons = [Button(ctx.t("settings.cancel"), f"{FLOW}:cancel")]
    if field == "quiet":
        text = ctx.t("prefs.ask_quiet", now=_quiet_line(ctx, policy))
        buttons.insert(0, Button(ctx.t("prefs.no_quiet"), settings_code("cpe", "noquiet")))
    elif field == "days":
        text = ctx.t("prefs.ask_cap_days", current=policy.cap_days)
    else:
        label = ctx.t(f"report.group_{group}")
        text = ctx.t("prefs.ask_cap", group=label, current=policy.cap_for(group))
    return Reply(text=text, buttons=tuple(buttons))


async def _switch_quiet_hours_off(ctx: Context) -> list[Reply]:
    """No quiet hours: the dispatcher never holds a promotion back (audited like any change)."""
    await switch_quiet_hours_off(ctx.uow, changed_by(ctx))
    ctx.finish()
    return [ctx.reply("settings.saved"), *await show_policy(ctx)]


async def value_step(ctx: Context) -> list[Reply]:
    """The typed value: checked (a refusal explains and asks again), stored, audited."""
    assert ctx.state is not None
    field, group = str(ctx.state.data.get("field")), str(ctx.state.data.get("group") or "")
    if field not in ("quiet", "days", "cap"):
        ctx.finish()
        return [ctx.reply("error.button_expired")]
    if ctx.inbound.action:
        return [ctx.reply("settings.type_value")]
    try:
        await set_contact_policy(ctx.uow, changed_by(ctx), field, group, ctx.inbound.text)
    except InvalidInput as error:
        return [ctx.reply(error.key, **error.params), await _ask(ctx, field, group)]
    ctx.finish()
    return [ctx.reply("settings.saved"), *await show_policy(ctx)]
