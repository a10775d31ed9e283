"""/settings → Loyalty rules: points per baht, welcome and referral points (and the referral's
minimum first purchase and monthly cap), expiry, the cashier
daily cap, the largest sale, and tiers — the ``loyalty`` shop setting that
:meth:`shop.loyalty.LoyaltyRules.from_setting` reads.

One field is edited at a time (``setv`` flow, step ``rule``); only that key of the stored JSON
changes, so keys written by other parts of the product survive. Amounts are stored as decimal
strings (exact), counts as integers. Each change audits ``settings.changed`` with before/after.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from bot.core.errors import InvalidInput
from bot.core.messages import Button, Reply
from bot.i18n import format_baht
from handlers.context import Context
from handlers.staff.settings.actions import settings_code
from handlers.staff.settings.store import changed_by
from shop.loyalty import LoyaltyRules, load_rules
from shop.loyalty_settings import FIELDS, set_rule

FLOW: Final = "setv"


def _show(ctx: Context, rules: LoyaltyRules, field: str) -> str:
    value = getattr(rules, field)
    if field == "tiers":
        return "; ".join(
            ctx.t(
                "settings.tier_line",
                name=tier.name,
                spend=format_baht(tier.min_spend, ctx.locale),
                multiplier=f"{tier.multiplier.normalize():f}",
            )
            for tier in rules.tiers
        )
    if field in ("cashier_daily_cap", "max_sale_amount", "referral_min_purchase"):
        return format_baht(value, ctx.locale)
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    return f"{value:,}"


async def show_rules(ctx: Context) -> list[Reply]:
    rules = await load_rules(ctx.uow)
    lines = [ctx.t("settings.rules_title")]
    lines += [ctx.t(f"settings.rule_{field}") + ": " + _show(ctx, rules, field) for field in FIELDS]
    buttons = [
        Button(ctx.t(f"settings.rule_{field}")[:40], settings_code("rule", field))
        for field in FIELDS
    ]
    buttons.append(Button(ctx.t("settings.back"), settings_code("home")))
    return [Reply(text="\n".join(lines), buttons=tuple(buttons))]


async def start_rule(ctx: Context, field: str) -> list[Reply]:
    if field not in FIELDS:
        return [ctx.reply("error.button_expired")]
    ctx.begin(FLOW, "rule", {"field": field})
    return [await _ask(ctx, field)]


async def _ask(ctx: Context, field: str) -> Reply:
    rules = await load_rules(ctx.uow)
    text = ctx.t(
        f"settings.ask_rule_{field}",
        current=_show(ctx, rules, field),
    )
    return Reply(text=text, buttons=(Button(ctx.t("settings.cancel"), f"{FLOW}:cancel"),))


async def rule_step(ctx: Context) -> list[Reply]:
    """The new value of one rule: validated, stored, audited; a refused value is asked again."""
    assert ctx.state is not None
    field = str(ctx.state.data.get("field"))
    if field not in FIELDS:
        ctx.finish()
        return [ctx.reply("error.button_expired")]
    try:
        await set_rule(ctx.uow, changed_by(ctx), field, ctx.inbound.text)
    except InvalidInput as error:
        return [ctx.reply(error.key, **error.params), await _ask(ctx, field)]
    ctx.finish()
    return [ctx.reply("settings.saved"), *await show_rules(ctx)]
