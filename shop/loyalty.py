"""Points and tier rules, and the computations every handler and job shares.

Rules come from the ``loyalty`` shop setting (owner-editable JSON) over these defaults:
one point per 25 THB, 50 welcome points, points expire 12 months after they were earned
(first in, first out), and tiers on the rolling 12-month spend of non-voided sales
(Member 0 / Silver 3,000 THB / Gold 10,000 THB, earning 1 / 1.25 / 1.5 times the points).
The tier a member holds (:meth:`LoyaltyRules.held_tier`) is the one that spend reaches now, or
the one the monthly review last gave them (``Member.tier``) when that is higher: a sale moves a
member up at once, but only the review moves them down, with a notice; until then they are
shown, earn with and are counted in the tier they hold.
A cashier may record 20,000 THB of sales per shop day before an owner must approve more, and
one sale may not exceed 100,000 THB (a typo guard).

Points are lots: each credit is a lot that expires ``expiry_months`` after its ``earned_at`` on
the shop's calendar (points earned at 00:30 on 1 March last until 00:30 on 1 April, shop time);
each debit uses up lots first in, first out (a void first takes back its own sale's lot). See
:func:`unspent_lots`, which both ``/points`` and the expiry operation use.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Any, Final, Protocol

from storage.segments import DEFAULT_TIER_TABLE
from storage.uow import UnitOfWork

SETTINGS_KEY: Final = "loyalty"
#: the key of the loyalty setting holding the tiers' display names, by tier name and language:
#: ``{"silver": {"th": "ซิลเวอร์", "en": "Silver"}}``
TIER_NAMES: Final = "tier_names"
#: how far ahead /points warns about expiring points
EXPIRY_WARNING: Final = timedelta(days=30)
#: the most days :func:`add_months` takes off a day that the month lacks (31 → 28)
CLAMPED_DAYS: Final = timedelta(days=3)


@dataclass(frozen=True, slots=True)
class Tier:
    name: str  # worded by ``wording.loyalty.tier_name`` (an owner's own name shows as written)
    min_spend: Decimal
    #: points of a sale are multiplied by this (and rounded down) for members of the tier
    multiplier: Decimal = Decimal(1)
    #: the owner's display names (``tier_names`` of the setting); empty: the built-in wording
    label_th: str = ""
    label_en: str = ""

    def own_label(self, locale: str) -> str:
        """The display name the owner gave for ``locale`` ("" when they gave none)."""
        return self.label_th if locale == "th" else self.label_en


#: Member 0 / Silver 3,000 THB / Gold 10,000 THB (the table lives with the segment engine,
#: which reads the same tiers)
DEFAULT_TIERS: Final = tuple(Tier(*row) for row in DEFAULT_TIER_TABLE)


@dataclass(frozen=True, slots=True)
class LoyaltyRules:
    baht_per_point: Decimal = Decimal(25)
    welcome_points: int = 50
    expiry_months: int = 12
    tier_window_months: int = 12
    tiers: tuple[Tier, ...] = DEFAULT_TIERS
    #: sales one cashier may record per shop day before an owner must approve more
    cashier_daily_cap: Decimal = Decimal(20000)
    #: the largest single sale accepted (a guard against a mistyped amount)
    max_sale_amount: Decimal = Decimal(100000)
    #: points for the referrer and for the new member, each, at the new member's first purchase
    referral_points: int = 100
    #: the first purchase that earns the bonus for a referee whose phone no platform verified
    referral_min_purchase: Decimal = Decimal(100)
    #: referral bonuses one referrer may earn per calendar month (shop time)
    referral_monthly_cap: int = 5

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
                Tier(
                    str(item["name"]),
                    Decimal(str(item.get("min_spend", 0))),
                    Decimal(str(item.get("multiplier", _default_multiplier(str(item["name"]))))),
                )
                for item in raw_tiers
                if isinstance(item, dict) and item.get("name")
            ]
            if parsed:
                tiers = tuple(sorted(parsed, key=lambda tier: tier.min_spend))
        tiers = _labelled(tiers, value.get(TIER_NAMES))
        return cls(
            baht_per_point=Decimal(str(value.get("baht_per_point", base.baht_per_point))),
            welcome_points=int(value.get("welcome_points", base.welcome_points)),
            expiry_months=int(value.get("expiry_months", base.expiry_months)),
            tier_window_months=int(value.get("tier_window_months", base.tier_window_months)),
            tiers=tiers,
            cashier_daily_cap=Decimal(str(value.get("cashier_daily_cap", base.cashier_daily_cap))),
            max_sale_amount=Decimal(str(value.get("max_sale_amount", base.max_sale_amount))),
            referral_points=int(value.get("referral_points", base.referral_points)),
            referral_min_purchase=Decimal(
                str(value.get("referral_min_purchase", base.referral_min_purchase))
            ),
            referral_monthly_cap=int(value.get("referral_monthly_cap", base.referral_monthly_cap)),
        )

    def points_for(self, amount: Decimal) -> int:
        """Points earned by a sale of ``amount`` baht (whole points, rounded down)."""
        if amount <= 0 or self.baht_per_point <= 0:
            return 0
        return int(amount // self.baht_per_point)

    def sale_points(self, amount: Decimal, tier: Tier) -> int:
        """Points for a sale by a member of ``tier``: the base points times the tier's
        multiplier, rounded down."""
        return int(self.points_for(amount) * max(tier.multiplier, Decimal(0)))

    def tier_for(self, spend: Decimal) -> tuple[Tier, Tier | None]:
        """The tier reached with ``spend`` and the next one up (None at the top)."""
        current = self.tiers[0]
        for tier in self.tiers:
            if spend >= tier.min_spend:
                current = tier
            else:
                return current, tier
        return current, None

    def held_tier(self, held: str | None, spend: Decimal) -> tuple[Tier, Tier | None]:
        """The tier a member holds and the next one up: the tier ``spend`` (in the window)
        reaches, or ``held`` (``Member.tier``, as the review last set it) if that is higher
        (a tier no longer in the table counts for nothing)."""
        reached, next_tier = self.tier_for(spend)
        kept = next((tier for tier in self.tiers if tier.name == held), None)
        if kept is None or kept.min_spend <= reached.min_spend:
            return reached, next_tier
        above = [tier for tier in self.tiers if tier.min_spend > kept.min_spend]
        return kept, above[0] if above else None


def _labelled(tiers: tuple[Tier, ...], names: Any) -> tuple[Tier, ...]:
    """The tiers with the owner's display names (kept by tier name, so they survive a change
    of the tier table)."""
    if not isinstance(names, Mapping):
        return tiers
    out = []
    for tier in tiers:
        mine = names.get(tier.name)
        if isinstance(mine, Mapping):
            th, en = str(mine.get("th") or ""), str(mine.get("en") or "")
            tier = replace(tier, label_th=th, label_en=en)
        out.append(tier)
    return tuple(out)


def _default_multiplier(name: str) -> Decimal:
    """A stored tier without a multiplier keeps the default tier's of that name (else 1)."""
    return next((tier.multiplier for tier in DEFAULT_TIERS if tier.name == name), Decimal(1))


async def load_rules(uow: UnitOfWork) -> LoyaltyRules:
    return LoyaltyRules.from_setting(await uow.settings.get(SETTINGS_KEY))


def add_months(moment: datetime, months: int) -> datetime:
    """Calendar months later (or earlier); the 31st becomes the month's last day."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def lot_expiry(earned_at: datetime, months: int, tz: tzinfo) -> datetime:
    """When points earned at ``earned_at`` expire: ``months`` calendar months later on the
    shop's calendar (``tz``), at the same shop time, as a UTC instant. A purchase in the small
    hours of a shop day belongs to that day, though it is still the day before in UTC."""
    return add_months(earned_at.astimezone(tz), months).astimezone(UTC)


def earned_between(
    start: datetime, end: datetime, months: int, tz: tzinfo
) -> tuple[datetime, datetime]:
    """A range of earning times holding every credit whose lot expires (:func:`lot_expiry`) in
    ``[start, end)``, to pre-select them by (the lot's own expiry then decides): ``months``
    earlier on the shop's calendar, the end :data:`CLAMPED_DAYS` later, since the days a
    shorter month lacks expire on its last day (with one month, the 28th to the 31st of January
    all expire on 28 February), and the start a day earlier, so that a daylight-saving shift
    between the two dates never leaves a credit out."""
    lowest = add_months(start.astimezone(tz), -months).astimezone(UTC) - timedelta(days=1)
    before = add_months(end.astimezone(tz), -months).astimezone(UTC) + CLAMPED_DAYS
    return lowest, before


@dataclass(slots=True)
class Lot:
    """Points of one credit entry that are still unspent."""

    entry_id: int | None
    sale_id: int | None
    expires_at: datetime
    remaining: int
    #: points of the lot that an ``expire`` entry took
    expired: int = 0


class LedgerLine(Protocol):
    """What the lot computation reads of a ledger entry (a :class:`PointsEntry` or a row)."""

    @property
    def id(self) -> int | None: ...
    @property
    def delta(self) -> int: ...
    @property
    def reason(self) -> str: ...
    @property
    def sale_id(self) -> int | None: ...
    @property
    def earned_at(self) -> datetime: ...


def unspent_lots(entries: Iterable[LedgerLine], expiry_months: int, tz: tzinfo) -> list[Lot]:
    """The credits not yet used up, oldest first (entries in ``earned_at`` order, then id).

    Each positive entry is a lot expiring ``expiry_months`` after its ``earned_at`` on the
    shop's calendar (``tz``, see :func:`lot_expiry`). A negative
    entry uses up the lots that exist at that point, oldest first; a ``void`` entry first takes
    its own sale's lot. A debit larger than every lot left (a balance that went below zero,
    which only older data could hold) is a debt that the next credits pay off first, so the
    lots always add up to ``max(balance, 0)`` and expiring them can never go below zero.
    """
    return [lot for lot in _lots(entries, expiry_months, tz) if lot.remaining > 0]


def expired_of_sale(entries: Iterable[LedgerLine], sale_id: int) -> int:
    """The points the sale's credit lost to expiry (first in, first out, as :func:`unspent_lots`
    uses the lots up): points the shop already took back, which a void must not take again."""
    return sum(lot.expired for lot in _lots(entries) if lot.sale_id == sale_id)


def unspent_of_sale(entries: Iterable[LedgerLine], sale_id: int) -> int:
    """The points of the sale's credit still in the balance (first in, first out, as
    :func:`unspent_lots` uses the lots up)."""
    return sum(lot.remaining for lot in _lots(entries) if lot.sale_id == sale_id)


def _lots(entries: Iterable[LedgerLine], expiry_months: int = 12, tz: tzinfo = UTC) -> list[Lot]:
    """Every credit's lot, used up or not (see :func:`unspent_lots`; the callers that leave out
    the expiry period and the calendar look only at how much of each lot is left)."""
    lots: list[Lot] = []
    debt = 0
    for entry in sorted(entries, key=lambda e: (e.earned_at, e.id or 0)):
        if entry.delta > 0:
            paid = min(debt, entry.delta)
            debt -= paid
            expires_at = lot_expiry(entry.earned_at, expiry_months, tz)
            lots.append(Lot(entry.id, entry.sale_id, expires_at, entry.delta - paid))
            continue
        owed = -entry.delta
        if entry.reason == "void" and entry.sale_id is not None:
            for lot in lots:
                if lot.sale_id == entry.sale_id:
                    used = min(lot.remaining, owed)
                    lot.remaining -= used
                    owed -= used
        for lot in lots:
            if owed == 0:
                break
            used = min(lot.remaining, owed)
            lot.remaining -= used
            owed -= used
            if entry.reason == "expire":
                lot.expired += used
        debt += owed
    return lots


def expiring_points(
    entries: Iterable[LedgerLine], until: datetime, tz: tzinfo, expiry_months: int = 12
) -> int:
    """Points still unspent that expire on or before ``until`` (see :func:`unspent_lots`)."""
    lots = unspent_lots(entries, expiry_months, tz)
    return sum(lot.remaining for lot in lots if lot.expires_at <= until)


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


async def loyalty_status(
    uow: UnitOfWork, member_id: int, now: datetime, tz: tzinfo
) -> LoyaltyStatus:
    """Balance, tier held and expiry warning of one member, as /points, the card, /customer
    and the console's member page show them (``tz``: the shop's, whose calendar the points
    expire on)."""
    rules = await load_rules(uow)
    since = add_months(now, -rules.tier_window_months)
    held, spend, entries = await uow.sales.standing(member_id, since)
    tier, next_tier = rules.held_tier(held, spend)
    until = now + EXPIRY_WARNING
    return LoyaltyStatus(
        balance=sum(entry.delta for entry in entries),
        spend=spend,
        tier=tier,
        next_tier=next_tier,
        to_next=(next_tier.min_spend - spend) if next_tier else Decimal(0),
        expiring=expiring_points(entries, until, tz, rules.expiry_months),
        expiring_by=until,
    )
