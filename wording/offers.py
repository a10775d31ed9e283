"""An offer's title as a member and a coupon show it: the owner's own, or one from its kind."""

from __future__ import annotations

from decimal import Decimal

from bot.i18n import format_baht, t
from shop.campaigns.offers import Offer


def default_title(kind: str, value: str, locale: str) -> str:
    """A title from the kind and value: "ซื้อ 1 แถม 1", "10% off", "Free Thai tea"."""
    if kind == "buy_x_get_y":
        buy, _, get = value.partition("-")
        return t(locale, "campaign.offer_title_buy_x_get_y", buy=buy, get=get)
    if kind == "baht":
        return t(locale, "campaign.offer_title_baht", amount=format_baht(Decimal(value), locale))
    return t(locale, f"campaign.offer_title_{kind}", value=value)


def offer_title(offer: Offer, locale: str) -> str:
    """The title the owner gave for ``locale``, else the default one for the offer's kind."""
    return offer.own_title(locale) or default_title(offer.kind, offer.value, locale)


def coupon_titles(offer: Offer) -> tuple[str, str]:
    """The (Thai, English) titles of the coupon a claim of ``offer`` issues."""
    return offer_title(offer, "th"), offer_title(offer, "en")
