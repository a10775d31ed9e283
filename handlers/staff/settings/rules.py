"""/settings → Loyalty rules: points per baht, welcome and referral points (and the referral's
minimum first purchase and monthly cap), expiry, the cashier
daily cap, the largest sale, and tiers — the ``loyalty`` shop setting that
:meth:`shop.loyalty.LoyaltyRules.from_setting` reads.

One field is edited at a time (``setv`` flow, step ``rule``); only that key of the stored JSON
changes, so keys written by other parts of the product survive. Amounts are stored as decimal
strings (exact), counts as integers. Each change audits ``settings.changed`` with before/after.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, Final

from bot.core.errors import InvalidInput
from bot.core.messages import Button, Reply
from bot.i18n import format_baht
from handlers.context import Context
from handlers.staff.settings.actions import settings_code
from handlers.staff.settings.input import parse_decimal, parse_int
from shop.inputs import thai_digits_to_ascii
from shop.loyalty import SETTINGS_KEY, LoyaltyRules, Tier, load_rules

FLOW: Final = "setv"
_BIG: Final = Decimal(1_000_000_000)
#: field → (kind, lowest, highest)
FIELDS: Final[dict[str, tuple[str, Decimal, Decimal]]] = {
    "baht_per_point": ("decimal", Decimal("0.01"), Decimal(100_000)),
    "welcome_points": ("int", Decimal(0), Decimal(100_000)),
    "referral_points": ("int", Decimal(0), Decimal(100_000)),
    "referral_min_purchase": ("decimal", Decimal(0), _BIG),
    "referral_monthly_cap": ("int", Decimal(1), Decimal(1000)),
    "expiry_months": ("int", Decimal(1), Decimal(120)),
    "cashier_daily_cap": ("decimal", Decimal(0), _BIG),
    "max_sale_amount": ("decimal", Decimal(1), _BIG),
    "tiers": ("tiers", Decimal(0), Decimal(0)),
}
MAX_TIERS: Final = 6
MAX_MULTIPLIER: Final = Decimal(10)
_TIER_NAME: Final = re.compile(r"[^\s]{1,20}")


def current_value(rules: LoyaltyRules, field: str) -> Any:
    """The rule as JSON would hold it (for display and the audit's ``before``)."""
    if field == "tiers":
        return [_tier_json(tier) for tier in rules.tiers]
    value = getattr(rules, field)
    return str(value) if isinstance(value, Decimal) else value


def _tier_json(tier: Tier) -> dict[str, str]:
    return {"name": tier.name, "min_spend": str(tier.min_spend), "multiplier": str(tier.multiplier)}


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


def parse_rule(field: str, text: str) -> Any:
    """The JSON value for ``field`` from what the owner typed, or InvalidInput."""
    kind, low, high = FIELDS[field]
    if kind == "int":
        return parse_int(text, int(low), int(high))
    if kind == "decimal":
        return str(parse_decimal(text, low, high))
    return parse_tiers(text)


def parse_tiers(text: str) -> list[dict[str, str]]:
    """Tiers, one per line (or separated by ``;``): ``name min_spend [multiplier]``.

    The lowest tier must start at 0; minimum spends must differ; names must be unique.
    """
    items = [part.strip() for part in re.split(r"[;\n]", text) if part.strip()]
    if not 0 < len(items) <= MAX_TIERS:
        raise InvalidInput("settings.bad_tiers", max=MAX_TIERS)
    tiers: list[Tier] = []
    for item in items:
        words = thai_digits_to_ascii(item).split()
        if len(words) not in (2, 3) or not _TIER_NAME.fullmatch(words[0]):
            raise InvalidInput("settings.bad_tiers", max=MAX_TIERS)
        name = words[0].lower() if words[0].isascii() else words[0]
        spend = parse_decimal(words[1], Decimal(0), _BIG)
        multiplier = parse_decimal(words[2], Decimal(1), MAX_MULTIPLIER) if len(words) == 3 else 1
        tiers.append(Tier(name, spend, Decimal(multiplier)))
    tiers.sort(key=lambda tier: tier.min_spend)
    names = {tier.name for tier in tiers}
    spends = {tier.min_spend for tier in tiers}
    if tiers[0].min_spend != 0 or len(names) != len(tiers) or len(spends) != len(tiers):
        raise InvalidInput("settings.bad_tiers", max=MAX_TIERS)
    return [_tier_json(tier) for tier in tiers]


async def rule_step(ctx: Context) -> list[Reply]:
    """The new value of one rule: validated, stored, audited; a refused value is asked again."""
    assert ctx.state is not None
    field = str(ctx.state.data.get("field"))
    if field not in FIELDS:
        ctx.finish()
        return [ctx.reply("error.button_expired")]
    try:
        value = parse_rule(field, ctx.inbound.text)
    except InvalidInput as error:
        return [ctx.reply(error.key, **error.params), await _ask(ctx, field)]
    stored = await ctx.uow.settings.get(SETTINGS_KEY) or {}
    before = current_value(LoyaltyRules.from_setting(stored), field)
    stored[field] = value
    await ctx.uow.settings.put(SETTINGS_KEY, stored, ctx.now)
    await ctx.uow.audit.record(
        ctx.actor,
        "settings.changed",
        ctx.now,
        channel=ctx.channel,
        key=SETTINGS_KEY,
        field=field,
        before=before,
        after=value,
    )
    ctx.finish()
    return [ctx.reply("settings.saved"), *await show_rules(ctx)]
