"""Points and tier rules, and the computations every handler and job shares.

Rules come from the ``loyalty`` shop setting (owner-editable JSON) over these defaults:
one point per 25 THB, 50 welcome points, points expire 12 months after they were earned
(first in, first out), and tiers on the rolling 12-month spend of non-voided sales
(Member 0 / Silver 3,000 THB / Gold 10,000 THB).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Final

from storage.models import PointsEntry
from storage.uow import UnitOfWork

SETTINGS_KEY: Final = "loyalty"
#: how far ahead /points warns about expiring points
EXPIRY_WARNING: Final = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class Tier:
    name: str  # catalog suffix: ``points.tier.<name>`` (falls back to the name itself)
    min_spend: Decimal


DEFAULT_TIERS: Final = (
    Tier("member", Decimal(0)),
    Tier("silver", Decimal(3000)),
    Tier("gold", Decimal(10000)),
)


@dataclass(frozen=True, slots=True)
class LoyaltyRules:
    baht_per_point: Decimal = Decimal(25)
    welcome_points: int = 50
    expiry_months: int = 12
    tier_window_months: int = 12
    tiers: tuple[Tier, ...] = DEFAULT_TIERS

    @classmethod
    def from_setting(cls, value: Mapping[str, Any] | None) -> LoyaltyRules:
        """Rules from the stored JSON; missing or unusable entries keep their defaults."""
        if not value:
            return cls()
        base = cls()
        tiers = base.tiers
        raw_tiers = value.get("tiers")
        if isinstance(raw_tiers, list) and raw_tiers:
            parsed = [
                Tier(str(item["name"]), Decimal(str(item.get("min_spend", 0))))
                for item in raw_tiers
                if isinstance(item, dict) and item.get("name")
            ]
            if parsed:
                tiers = tuple(sorted(parsed, key=lambda tier: tier.min_spend))
        return cls(
            baht_per_point=Decimal(str(value.get("baht_per_point", base.baht_per_point))),
            welcome_points=int(value.get("welcome_points", base.welcome_points)),
            expiry_months=int(value.get("expiry_months", base.expiry_months)),
            tier_window_months=int(value.get("tier_window_months", base.tier_window_months)),
            tiers=tiers,
        )

    def points_for(self, amount: Decimal) -> int:
        """Points earned by a sale of ``amount`` baht (whole points, rounded down)."""
        if amount <= 0 or self.baht_per_point <= 0:
            return 0
        return int(amount // self.baht_per_point)

    def tier_for(self, spend: Decimal) -> tuple[Tier, Tier | None]:
        """The tier reached with ``spend`` and the next one up (None at the top)."""
        current = self.tiers[0]
        for tier in self.tiers:
            if spend >= tier.min_spend:
                current = tier
            else:
                return current, tier
        return current, None


async def load_rules(uow: UnitOfWork) -> LoyaltyRules:
    return LoyaltyRules.from_setting(await uow.settings.get(SETTINGS_KEY))


def add_months(moment: datetime, months: int) -> datetime:
    """Calendar months later (or earlier); the 31st becomes the month's last day."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def expiring_points(
    entries: Iterable[PointsEntry], until: datetime, expiry_months: int = 12
) -> int:
    """Points still unspent that expire on or before ``until``.

    First in, first out: each positive entry is a lot expiring ``expiry_months`` after
    ``earned_at``; every negative entry (redeem, void, expire...) uses up the oldest lots first.
    A negative entry larger than what is left is not carried as debt against later lots.
    """
    lots: list[list[Any]] = []  # [expires_at, remaining]
    for entry in sorted(entries, key=lambda e: (e.earned_at, e.id or 0)):
        if entry.delta > 0:
            lots.append([add_months(entry.earned_at, expiry_months), entry.delta])
            continue
        owed = -entry.delta
        for lot in lots:
            if owed == 0:
                break
            used = min(lot[1], owed)
            lot[1] -= used
            owed -= used
    return sum(int(remaining) for expires_at, remaining in lots if expires_at <= until)


@dataclass(frozen=True, slots=True)
class LoyaltyStatus:
    balance: int
    spend: Decimal
    tier: Tier
    next_tier: Tier | None
    #: baht still to spend (within the window) to reach ``next_tier``
    to_next: Decimal
    expiring: int
    expiring_by: datetime


async def loyalty_status(uow: UnitOfWork, member_id: int, now: datetime) -> LoyaltyStatus:
    """Balance, tier and expiry warning of one member, as /points and the card show them."""
    rules = await load_rules(uow)
    entries = await uow.points.entries(member_id)
    spend = await uow.members.spend_since(member_id, add_months(now, -rules.tier_window_months))
    tier, next_tier = rules.tier_for(spend)
    until = now + EXPIRY_WARNING
    return LoyaltyStatus(
        balance=sum(entry.delta for entry in entries),
        spend=spend,
        tier=tier,
        next_tier=next_tier,
        to_next=(next_tier.min_spend - spend) if next_tier else Decimal(0),
        expiring=expiring_points(entries, until, rules.expiry_months),
        expiring_by=until,
    )
