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

Handler = Callable[..., Awaitable[list[Reply]]]


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


async def _preview(ctx: Context, name: str) -> list[Reply]:
    return [await auto_texts.preview(ctx, name)]


#: ``set:<verb>`` → (how many arguments its code carries, its page or edit); tier names and
#: the contact policy's edits read their arguments themselves (``None``)
VERBS: Final[dict[str, tuple[int | None, Handler]]] = {
    "cp": (0, contact.show_policy),
    "cpe": (None, contact.start_edit),
    "lc": (0, lifecycle.show_lifecycle),
    "lce": (1, lifecycle.start_edit),
    "tn": (0, tier_names.show_tier_names),
    "tne": (None, tier_names.start_edit),
    "atx": (1, auto_texts.show_texts),
    "ate": (2, auto_texts.start_text),
    "atg": (1, auto_texts.choose_gift),
    "atk": (2, auto_texts.start_gift),
    "atp": (1, _preview),
}


async def action(ctx: Context, verb: str, args: tuple[str, ...]) -> list[Reply]:
    """A ``set:`` button of these pages (owner only, checked by the router)."""
    arity, handler = VERBS[verb]
    if arity is None:
        return await handler(ctx, args)
    if len(args) != arity:
        return [ctx.reply("error.button_expired")]
    return await handler(ctx, *args)


#: ``setv`` step → what handles a typed value or a flow button there
STEPS: Final[dict[str, Callable[[Context], Awaitable[list[Reply]]]]] = {
    contact.STEP: contact.value_step,
    lifecycle.STEP: lifecycle.value_step,
    lifecycle.CONFIRM: lifecycle.confirm_step,
    tier_names.STEP: tier_names.value_step,
    auto_texts.TEXT_STEP: auto_texts.value_step,
    auto_texts.GIFT_STEP: auto_texts.value_step,
}
