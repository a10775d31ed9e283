"""What the console's settings page shows: every value as the chat's ``/settings`` reads it
(the same shop/ loaders), gathered for the template."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from shop import profile
from shop.automation_settings import AUTOMATIONS, load_values
from shop.automations import automation_config, gift_of, own_text
from shop.branches import BranchView, list_branches
from shop.contact_policy import load_policy
from shop.lifecycle_settings import current_rules
from shop.loyalty import LoyaltyRules, load_rules
from shop.loyalty_settings import FIELDS as RULE_FIELDS
from shop.settings_changes import quiet_hours
from shop.settings_values import CAP_GROUPS, GIFT_AUTOMATIONS, LIFECYCLE_FIELDS, TEXT_AUTOMATIONS
from storage.models import Reward
from storage.segments.lifecycle import LifecycleRules
from storage.uow import UnitOfWork
from wording.loyalty import tier_name


def typed(rules: LifecycleRules, field: str) -> str:
    """A threshold as the owner types it (a share as a percentage)."""
    value = getattr(rules, field)
    if LIFECYCLE_FIELDS[field][0] == "percent":
        return f"{(value * 100).normalize():f}"
    return f"{value.normalize():f}" if isinstance(value, Decimal) else str(value)


def typed_rule(rules: LoyaltyRules, field: str) -> str:
    """A loyalty rule as the owner types it; the tiers one per line, ``name spend multiplier``."""
    if field == "tiers":
        return "\n".join(
            f"{tier.name} {tier.min_spend.normalize():f} {tier.multiplier.normalize():f}"
            for tier in rules.tiers
        )
    value = getattr(rules, field)
    return f"{value.normalize():f}" if isinstance(value, Decimal) else str(value)


@dataclass(frozen=True, slots=True)
class AutomationRow:
    name: str
    enabled: bool
    #: (field, current value, lowest, highest)
    numbers: tuple[tuple[str, Any, int, int], ...]
    #: locale → the owner's message ("" the built-in one); empty: it has no message
    texts: dict[str, str]
    #: (offer kind, value) of its gift; None: it gives none
    gift: tuple[str, str] | None


@dataclass(frozen=True, slots=True)
class TierRow:
    name: str
    #: locale → (the name members read, the owner's own name or "")
    labels: dict[str, tuple[str, str]]


@dataclass(frozen=True, slots=True)
class SettingsView:
    name_th: str
    name_en: str
    price: Decimal
    branches: list[BranchView]
    quiet: list[str]
    cap_days: int
    caps: list[tuple[str, int]]
    automations: list[AutomationRow]
    tiers: list[TierRow]
    #: (threshold, as the owner types it)
    lifecycle: list[tuple[str, str]]
    #: (loyalty rule, as the owner types it; tiers one per line)
    rules: list[tuple[str, str]]
    rewards: Sequence[Reward]


async def settings_view(uow: UnitOfWork) -> SettingsView:
    name = await profile.shop_name(uow)
    policy = await load_policy(uow.settings)
    rules = await current_rules(uow)
    automations = []
    for automation in AUTOMATIONS:
        _, values = await load_values(uow, automation)
        numbers = tuple(
            (field, values[field], low, high) for field, (low, high) in automation.fields.items()
        )
        key = automation.name
        config = await automation_config(uow, key) if key in TEXT_AUTOMATIONS else {}
        texts = {lo: own_text(config, lo) for lo in ("th", "en")} if config else {}
        gift = gift_of(config, key) if key in GIFT_AUTOMATIONS else None
        switched_on = bool(values[automation.switch])
        automations.append(AutomationRow(key, switched_on, numbers, texts, gift))
    loyalty = await load_rules(uow)
    tiers = [
        TierRow(tier.name, {lo: (tier_name(lo, tier), tier.own_label(lo)) for lo in ("th", "en")})
        for tier in loyalty.tiers
    ]
    return SettingsView(
        name.th or "",
        name.en or "",
        await profile.line_price(uow),
        await list_branches(uow),
        quiet_hours(policy),
        policy.cap_days,
        [(group, policy.cap_for(group)) for group in CAP_GROUPS],
        automations,
        tiers,
        [(field, typed(rules, field)) for field in LIFECYCLE_FIELDS],
        [(field, typed_rule(loyalty, field)) for field in RULE_FIELDS],
        await uow.rewards.all(),
    )
