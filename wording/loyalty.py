"""The loyalty programme's words: a tier's name in the member's language."""

from __future__ import annotations

from bot.i18n import t
from shop.loyalty import Tier


def tier_name(locale: str, tier: Tier) -> str:
    """The tier's name in ``locale``: the display name the owner gave in /settings, else the
    catalog's; an owner-defined tier without either shows the name the owner wrote."""
    if own := tier.own_label(locale):
        return own
    key = f"points.tier_{tier.name}"
    text = t(locale, key)
    return tier.name if text == key else text
