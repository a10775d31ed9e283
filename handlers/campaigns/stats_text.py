"""Campaign results in words: the ``/campaigns`` summary line and the uplift phrases."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Final

from bot.i18n import format_baht, t
from shop.campaigns.stats import baht, compute_stats
from shop.campaigns.uplift import Estimate, Verdict
from storage.models import Campaign
from storage.uow import UnitOfWork

#: a group's share or mean when it has nobody measured: undefined, not 0
UNDEFINED: Final = "—"


async def campaign_summary_line(
    uow: UnitOfWork, campaign: Campaign, locale: str, now: datetime
) -> str:
    """One line for the ``/campaigns`` list: sent, redeemed, revenue and the uplift verdict
    (or that no hold-out was kept, for a notice sent to everyone)."""
    stats = await compute_stats(uow, campaign.id, now)
    return t(
        locale,
        "stats.summary_line",
        sent=stats.recipients.sent,
        redeemed=stats.recipients.redeemed,
        revenue=format_baht(stats.recipients.revenue, locale),
        uplift=(
            t(locale, "stats.no_holdout_short")
            if stats.no_holdout
            else uplift_phrase(stats.revenue_uplift, locale)
        ),
    )


def uplift_phrase(estimate: Estimate, locale: str) -> str:
    """The revenue uplift in a few words: a number with its interval, or why there is none."""
    if estimate.no_variation:
        return t(locale, "stats.no_variation_short")
    if estimate.verdict is Verdict.TOO_FEW:
        return t(locale, "stats.too_few_short")
    if estimate.verdict is Verdict.NO_EFFECT:
        return t(locale, "stats.no_effect_short")
    return interval_phrase(estimate, locale)


def interval_phrase(estimate: Estimate, locale: str) -> str:
    """ "+฿40 per member (95%: +฿12 to +฿68)", whatever the verdict (not for TOO_FEW: no
    interval)."""
    return t(
        locale,
        "stats.uplift_short",
        value=_signed_baht(estimate.difference, locale),
        low=_signed_baht(estimate.low, locale),
        high=_signed_baht(estimate.high, locale),
    )


def _signed_baht(value: float, locale: str) -> str:
    amount = baht(value)
    text = format_baht(abs(amount), locale)
    return f"−{text}" if amount < 0 else f"+{text}"


def share_text(value: float | None) -> str:
    """A group's visit rate, "12.5%"; a dash for a group of nobody."""
    return UNDEFINED if value is None else f"{value * 100:.1f}%"


def per_member_text(value: Decimal | None, locale: str) -> str:
    """A group's revenue per member; a dash for a group of nobody."""
    return UNDEFINED if value is None else format_baht(value, locale)
