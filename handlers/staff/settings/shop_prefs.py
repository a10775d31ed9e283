"""/settings pages of the shop's preferences: contact policy, lifecycle thresholds, tier names
and the automations' messages and gifts — their menu buttons, their ``set:`` verbs and
``setv`` steps, and the read-only view a manager gets.

Managers may read the quiet hours, the frequency caps, the lifecycle thresholds and the tier
names (they plan campaigns and read /report with them); only an owner may change them, which
the router enforces for every ``set:`` button and every ``setv`` step. The automations' texts
and gifts, the rewards and the loyalty rules stay owner-only, even to read.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Final

from bot.core.messages import Button, Reply
from handlers.context import Context
from handlers.staff.settings import auto_texts, contact, lifecycle, tier_names
from handlers.staff.settings.actions import settings_code
from shop.contact_policy import load_policy
from shop.loyalty import load_rules

Handler = Callable[[Context, tuple[str, ...]], Awaitable[list[Reply]]]


def menu_buttons(ctx: Context) -> tuple[Button, ...]:
    """The owner's menu entries of these pages."""
    return (
        Button(ctx.t("prefs.menu_policy"), settings_code("cp")),
        Button(ctx.t("prefs.menu_lifecycle"), settings_code("lc")),
        Button(ctx.t("prefs.menu_tiers"), settings_code("tn")),
    )


async def manager_view(ctx: Context) -> list[Reply]:
    """/settings for a manager: what they may read, and who may change it."""
    lines = contact.policy_lines(ctx, await load_policy(ctx.uow.settings))
    lines += ["", *lifecycle.lifecycle_lines(ctx, await lifecycle.current_rules(ctx))]
    lines += ["", *tier_names.tier_lines(ctx, await load_rules(ctx.uow), both=False)]
    lines += ["", ctx.t("prefs.read_only")]
    return [Reply(text="\n".join(lines))]


async def _policy(ctx: Context, args: tuple[str, ...]) -> list[Reply]:
    return await contact.show_policy(ctx) if not args else [ctx.reply("error.button_expired")]


async def _lifecycle(ctx: Context, args: tuple[str, ...]) -> list[Reply]:
    return await lifecycle.show_lifecycle(ctx) if not args else [ctx.reply("error.button_expired")]


async def _tiers(ctx: Context, args: tuple[str, ...]) -> list[Reply]:
    return (
        await tier_names.show_tier_names(ctx) if not args else [ctx.reply("error.button_expired")]
    )


async def _one(
    ctx: Context, args: tuple[str, ...], page: Callable[[str], Awaitable[list[Reply]]]
) -> list[Reply]:
    return await page(args[0]) if len(args) == 1 else [ctx.reply("error.button_expired")]


async def _lifecycle_edit(ctx: Context, args: tuple[str, ...]) -> list[Reply]:
    return await _one(ctx, args, lambda field: lifecycle.start_edit(ctx, field))


async def _texts(ctx: Context, args: tuple[str, ...]) -> list[Reply]:
    return await _one(ctx, args, lambda name: auto_texts.show_texts(ctx, name))


async def _preview(ctx: Context, args: tuple[str, ...]) -> list[Reply]:
    async def page(name: str) -> list[Reply]:
        return [await auto_texts.preview(ctx, name)]

    return await _one(ctx, args, page)


async def _gift(ctx: Context, args: tuple[str, ...]) -> list[Reply]:
    return (
        auto_texts.choose_gift(ctx, args[0])
        if len(args) == 1
        else [ctx.reply("error.button_expired")]
    )


async def _text_edit(ctx: Context, args: tuple[str, ...]) -> list[Reply]:
    if len(args) != 2:
        return [ctx.reply("error.button_expired")]
    return auto_texts.start_text(ctx, args[0], args[1])


async def _gift_edit(ctx: Context, args: tuple[str, ...]) -> list[Reply]:
    if len(args) != 2:
        return [ctx.reply("error.button_expired")]
    return auto_texts.start_gift(ctx, args[0], args[1])


#: ``set:<verb>`` → its page or edit
VERBS: Final[dict[str, Handler]] = {
    "cp": _policy,
    "cpe": contact.start_edit,
    "lc": _lifecycle,
    "lce": _lifecycle_edit,
    "tn": _tiers,
    "tne": tier_names.start_edit,
    "atx": _texts,
    "ate": _text_edit,
    "atg": _gift,
    "atk": _gift_edit,
    "atp": _preview,
}
#: ``setv`` step → what handles a typed value or a flow button there
STEPS: Final[dict[str, Callable[[Context], Awaitable[list[Reply]]]]] = {
    contact.STEP: contact.value_step,
    lifecycle.STEP: lifecycle.value_step,
    lifecycle.CONFIRM: lifecycle.confirm_step,
    tier_names.STEP: tier_names.value_step,
    auto_texts.TEXT_STEP: auto_texts.value_step,
    auto_texts.GIFT_STEP: auto_texts.value_step,
}
