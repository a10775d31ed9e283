"""/settings → Tier names: how each tier is called in Thai and in English.

Members read a tier's name in their own language on their card, in /points and in messages;
the owner may replace the built-in names ("Silver", "ซิลเวอร์") or name their own tiers in both
languages. Names live in the ``loyalty`` setting under ``tier_names``, by tier and language, so
they survive a change of the tier table. A button names its tier by position (Telegram's
64-byte limit would not hold a Thai tier name); the flow keeps the tier's name itself.
Typing ``-`` goes back to the built-in name. Each change is audited with before/after.
"""

from __future__ import annotations

from typing import Final

from bot.core.errors import InvalidInput
from bot.core.ids import row_id
from bot.core.messages import Button, Reply
from bot.i18n import LOCALES
from handlers.context import Context
from handlers.staff.settings.actions import settings_code
from handlers.staff.settings.store import changed_by
from shop.loyalty import LoyaltyRules, Tier, load_rules
from shop.settings_changes import set_tier_label
from wording.loyalty import tier_name

FLOW: Final = "setv"
STEP: Final = "tiername"


def tier_lines(ctx: Context, rules: LoyaltyRules, *, both: bool = True) -> list[str]:
    """Each tier with its names: in both languages for the owner's editor, in the reader's
    own language only for a read-only view."""
    lines = [ctx.t("prefs.tiers_title")]
    for tier in rules.tiers:
        if both:
            th, en = tier_name("th", tier), tier_name("en", tier)
            lines.append(ctx.t("prefs.tier_names_line", tier=tier.name, th=th, en=en))
        else:
            lines.append(
                ctx.t("prefs.tier_name_line", tier=tier.name, name=tier_name(ctx.locale, tier))
            )
    return lines


async def show_tier_names(ctx: Context) -> list[Reply]:
    rules = await load_rules(ctx.uow)
    buttons = [
        Button(
            ctx.t(f"prefs.tier_edit_{locale}", tier=tier_name(ctx.locale, tier))[:40],
            settings_code("tne", index, locale),
        )
        for index, tier in enumerate(rules.tiers)
        for locale in LOCALES
    ]
    buttons.append(Button(ctx.t("settings.back"), settings_code("home")))
    return [Reply(text="\n".join(tier_lines(ctx, rules)), buttons=tuple(buttons))]


async def start_edit(ctx: Context, args: tuple[str, ...]) -> list[Reply]:
    """``set:tne:INDEX:LOCALE``: ask for the tier's name in that language."""
    rules = await load_rules(ctx.uow)
    index = row_id(args[0]) if len(args) == 2 else None
    if index is None or args[1] not in LOCALES or index >= len(rules.tiers):
        return [ctx.reply("error.button_expired")]
    tier = rules.tiers[index]
    ctx.begin(FLOW, STEP, {"tier": tier.name, "locale": args[1]})
    return [_ask(ctx, tier, args[1])]


def _ask(ctx: Context, tier: Tier, locale: str) -> Reply:
    text = ctx.t(
        f"prefs.ask_tier_{locale}", tier=tier.name, current=tier_name(locale, tier), max=30
    )
    return Reply(text=text, buttons=(Button(ctx.t("settings.cancel"), f"{FLOW}:cancel"),))


async def value_step(ctx: Context) -> list[Reply]:
    """The typed name: checked, stored, audited; ``-`` restores the built-in name."""
    assert ctx.state is not None
    name, locale = str(ctx.state.data.get("tier")), str(ctx.state.data.get("locale"))
    rules = await load_rules(ctx.uow)
    tier = next((tier for tier in rules.tiers if tier.name == name), None)
    if tier is None or locale not in LOCALES:
        ctx.finish()  # the tier was renamed or removed since the button was pressed
        return [ctx.reply("error.button_expired")]
    if ctx.inbound.action:
        return [ctx.reply("settings.type_value")]
    try:
        await set_tier_label(ctx.uow, changed_by(ctx), name, locale, ctx.inbound.text)
    except InvalidInput as error:
        return [ctx.reply(error.key, **error.params), _ask(ctx, tier, locale)]
    ctx.finish()
    return [ctx.reply("settings.saved"), *await show_tier_names(ctx)]
