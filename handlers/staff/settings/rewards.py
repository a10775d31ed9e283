"""/settings → Rewards: adding a reward and editing its cost or stock, by typed answers.

Adding is a typed conversation in the ``setv`` flow (steps ``add_*``): Thai name, English
name, points cost, stock (or unlimited), first and last day (optional), branches (all or some),
days a coupon stays valid, then a summary to save. Every answer is validated and a refused one
is asked again with an example. Saving audits ``reward.created``; edits audit
``reward.updated`` with the value before and after.
"""

from __future__ import annotations

from typing import Final

from bot.core.errors import InvalidInput
from bot.core.messages import Button, Reply
from handlers.branch_pages import branch_page, page_holding, page_number, ticked_branches
from handlers.context import Context
from handlers.staff.settings.catalog import button, show_reward, summary
from handlers.staff.settings.store import changed_by
from shop.reward_settings import (
    DEFAULT_VALID_DAYS,
    MAX_COST,
    MAX_STOCK,
    MAX_VALID_DAYS,
    create_reward,
    parse_number,
    parse_until,
    set_number,
)
from shop.settings_input import parse_day, parse_int, parse_name

FLOW: Final = "setv"
ADD_STEPS: Final = (
    "add_name_th",
    "add_name_en",
    "add_cost",
    "add_stock",
    "add_from",
    "add_until",
    "add_branches",
    "add_days",
    "add_confirm",
)


def start_add(ctx: Context) -> list[Reply]:
    ctx.begin(FLOW, ADD_STEPS[0])
    return [_ask(ctx, ADD_STEPS[0])]


def start_edit(ctx: Context, reward_id: int, field: str) -> list[Reply]:
    if field not in ("cost", "stock"):
        return [ctx.reply("error.button_expired")]
    ctx.begin(FLOW, f"edit_{field}", {"id": reward_id})
    return [_ask(ctx, f"edit_{field}")]


def _ask(ctx: Context, step: str) -> Reply:
    buttons: list[Button] = []
    if step in ("add_stock", "edit_stock"):
        buttons.append(button(ctx, "settings.unlimited", f"{FLOW}:unlimited"))
    if step in ("add_from", "add_until"):
        buttons.append(button(ctx, "settings.skip", f"{FLOW}:skip"))
    if step == "add_days":
        buttons.append(Button(ctx.t("settings.days_default"), f"{FLOW}:d30"))
    buttons.append(button(ctx, "settings.cancel", f"{FLOW}:cancel"))
    return Reply(text=ctx.t(f"settings.ask_{step}"), buttons=tuple(buttons))


async def _ask_branches(ctx: Context, page: int = 0) -> Reply:
    """The branches step: every open branch a page at a time (:mod:`handlers.branch_pages`),
    ticked when chosen, so a chain of any size can limit a reward to any of its branches."""
    assert ctx.state is not None
    chosen: list[str] = ctx.state.data.get("branch_codes", [])
    branches = await ctx.uow.branches.active()
    picks = ticked_branches(ctx, branches, chosen, lambda code: f"{FLOW}:br:{code}")
    shown = branch_page(ctx, picks, page, lambda n: f"{FLOW}:bp:{n}")
    buttons = (
        button(ctx, "settings.all_branches", f"{FLOW}:all"),
        *shown.buttons,
        button(ctx, "settings.done", f"{FLOW}:done"),
    )
    chosen_text = ", ".join(chosen) if chosen else ctx.t("settings.all_branches")
    text = ctx.t("settings.ask_add_branches", chosen=chosen_text)
    return Reply(text="\n".join(filter(None, (text, shown.note))), buttons=buttons)


async def add_step(ctx: Context) -> list[Reply]:
    """One answer of the add wizard; a refused answer re-asks the same step."""
    assert ctx.state is not None
    step, data, pressed = ctx.state.step, ctx.state.data, ctx.args if ctx.inbound.action else ""
    text = ctx.inbound.text
    try:
        if step == "add_name_th":
            data["name_th"] = parse_name(text)
        elif step == "add_name_en":
            data["name_en"] = parse_name(text)
        elif step == "add_cost":
            data["points_cost"] = parse_int(text, 1, MAX_COST)
        elif step == "add_stock":
            data["stock"] = None if pressed == "unlimited" else parse_int(text, 0, MAX_STOCK)
        elif step == "add_from":
            data["starts_at"] = None if pressed == "skip" else parse_day(text).isoformat()
        elif step == "add_until":
            data["ends_at"] = (
                None if pressed == "skip" else parse_until(text, data.get("starts_at"))
            )
        elif step == "add_branches":
            return await _branch_answer(ctx, pressed)
        elif step == "add_days":
            days = DEFAULT_VALID_DAYS if pressed == "d30" else None
            data["valid_days"] = days or parse_int(text, 1, MAX_VALID_DAYS)
        elif step == "add_confirm":
            return await _save(ctx) if pressed == "save" else [_confirm(ctx)]
    except InvalidInput as error:
        return [ctx.reply(error.key, **error.params), _ask(ctx, step)]
    return await _next(ctx, step)


async def _next(ctx: Context, step: str) -> list[Reply]:
    following = ADD_STEPS[ADD_STEPS.index(step) + 1]
    if following == "add_branches" and not await ctx.uow.branches.active():
        ctx.goto("add_branches", branch_codes=[])
        following = "add_days"
    ctx.goto(following)
    if following == "add_branches":
        return [await _ask_branches(ctx)]
    if following == "add_confirm":
        return [_confirm(ctx)]
    return [_ask(ctx, following)]


async def _branch_answer(ctx: Context, pressed: str) -> list[Reply]:
    assert ctx.state is not None
    chosen: list[str] = list(ctx.state.data.get("branch_codes", []))
    if pressed == "all":
        ctx.goto("add_branches", branch_codes=[])
        return await _next(ctx, "add_branches")
    if pressed == "done":
        return await _next(ctx, "add_branches")
    if pressed.startswith("bp:"):
        return [await _ask_branches(ctx, page_number(pressed.removeprefix("bp:")))]
    code = pressed.removeprefix("br:")
    codes = [branch.code for branch in await ctx.uow.branches.active()]
    if not pressed.startswith("br:") or (code not in chosen and code not in codes):
        # only open branches: a button is a request (forged or stale), not a fact
        return [ctx.reply("settings.use_buttons"), await _ask_branches(ctx)]
    chosen = [c for c in chosen if c != code] if code in chosen else [*chosen, code]
    ctx.goto("add_branches", branch_codes=chosen)
    # the button may be from a page shown earlier: show the page its branch is on
    page = page_holding(codes.index(code)) if code in codes else 0
    return [await _ask_branches(ctx, page)]


def _confirm(ctx: Context) -> Reply:
    assert ctx.state is not None
    buttons = (
        button(ctx, "settings.save", f"{FLOW}:save"),
        button(ctx, "settings.cancel", f"{FLOW}:cancel"),
    )
    text = f"{ctx.t('settings.confirm_reward')}\n{summary(ctx, ctx.state.data)}"
    return Reply(text=text, buttons=buttons)


async def _save(ctx: Context) -> list[Reply]:
    assert ctx.state is not None
    reward_id = await create_reward(ctx.uow, changed_by(ctx), ctx.settings.tz, ctx.state.data)
    ctx.finish()
    return [ctx.reply("settings.reward_created", id=reward_id), *await show_reward(ctx, reward_id)]


async def edit_step(ctx: Context) -> list[Reply]:
    """The new cost or stock of one reward (``edit_cost`` / ``edit_stock``)."""
    assert ctx.state is not None
    step, field = ctx.state.step, ctx.state.step.removeprefix("edit_")
    reward = await ctx.uow.rewards.get(int(ctx.state.data.get("id", 0)))
    if reward is None:
        ctx.finish()
        return [ctx.reply("error.button_expired")]
    pressed = ctx.args if ctx.inbound.action else ""
    try:
        unlimited = field == "stock" and pressed == "unlimited"
        value = None if unlimited else parse_number(field, ctx.inbound.text)
    except InvalidInput as error:
        return [ctx.reply(error.key, **error.params), _ask(ctx, step)]
    await set_number(ctx.uow, changed_by(ctx), reward.id, field, value)
    ctx.finish()
    return [ctx.reply("settings.saved"), *await show_reward(ctx, reward.id)]
