"""The automations' messages: each automation's template (as its period campaign shows it) and
the message one member reads, in their language."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from bot.core.keys import promotion_action
from bot.core.messages import Button, Reply
from bot.i18n import format_baht, format_date, format_points, t
from shop.automations import BIRTHDAY_GIFT, WINBACK_GIFT, birthday_offer, winback_offer
from shop.campaigns.offers import Offer
from shop.campaigns.templates import placeholders_in
from shop.loyalty import LoyaltyRules, Tier
from shop.profile import ShopNames
from storage.repositories.audiences import AudienceRow
from wording.campaigns import member_values
from wording.loyalty import tier_name
from wording.templates import render_template

#: one member's message, given their audience row and language
Render = Callable[[AudienceRow, str], Reply]


@dataclass(frozen=True, slots=True)
class OwnWords:
    """The messages the owner wrote for an automation in /settings (locale → template, ""
    for the built-in wording) and what their placeholders are filled from."""

    texts: Mapping[str, str] = field(default_factory=dict)
    rules: LoyaltyRules = field(default_factory=LoyaltyRules)
    shop: ShopNames = field(default_factory=ShopNames)
    now: datetime | None = None
    tz: ZoneInfo | None = None

    def text(self, locale: str) -> str:
        return self.texts.get(locale, "")

    @property
    def needs_spend(self) -> bool:
        """Whether a text shows the member's tier (the audience then needs their spend)."""
        return any("tier" in placeholders_in(text) for text in self.texts.values() if text)


def birthday_template(own: str = "") -> str:
    """The birthday campaign's message as ``/campaigns`` shows it (the owner's Thai one)."""
    return own or t("th", "auto.birthday_message", name="{name}", until="{expires}")


def birthday_greeting(
    campaign_id: int, until: date, offer: Offer | None = None, own: OwnWords | None = None
) -> Render:
    """The birthday greeting with the coupon valid ``until`` and the campaign's claim button."""
    keys = ("auto.birthday_message", "auto.birthday_button")
    return _offer_message(keys, campaign_id, until, offer, own or OwnWords())


def winback_template(own: str = "") -> str:
    """The win-back campaign's message as ``/campaigns`` shows it (the owner's Thai one)."""
    return own or t("th", "auto.winback_message", name="{name}", until="{expires}")


def winback_offer_message(
    campaign_id: int, until: date, offer: Offer | None = None, own: OwnWords | None = None
) -> Render:
    """The "we miss you" offer valid ``until`` with the campaign's claim button."""
    keys = ("auto.winback_message", "auto.winback_button")
    return _offer_message(keys, campaign_id, until, offer, own or OwnWords())


def _offer_message(
    keys: tuple[str, str], campaign_id: int, until: date, offer: Offer | None, own: OwnWords
) -> Render:
    """A member's offer message (the owner's text in their language, else the catalog's
    ``keys[0]`` with their name and the last day) and its claim button (``keys[1]``)."""
    text_key, button_key = keys

    def render(row: AudienceRow, locale: str) -> Reply:
        if mine := own.text(locale):
            text = render_template(mine, _values(row, locale, offer, own), locale)
        else:
            text = t(locale, text_key, name=row.name or "", until=format_date(until, locale))
        button = Button(t(locale, button_key), promotion_action(campaign_id))
        return Reply(text=text, buttons=(button,))

    return render


def _values(
    row: AudienceRow, locale: str, offer: Offer | None, own: OwnWords
) -> dict[str, str | None]:
    assert own.now is not None
    assert own.tz is not None
    return member_values(
        name=row.name,
        points=row.points_balance,
        tier=tier_name(locale, own.rules.held_tier(row.held, row.spend)[0]),
        branch=row.branch_th if locale == "th" else row.branch_en,
        offer=offer,
        locale=locale,
        now=own.now,
        tz=own.tz,
        shop=own.shop.shown(locale),
    )


def expiry_template(own: str = "") -> str:
    """The expiry reminders' campaign message as ``/campaigns`` shows it (the owner's Thai
    one)."""
    return own or t("th", "auto.expiry_reminder", points="{points}", date="{date}")


def expiry_reminder(
    points: int, day: date, locale: str, own: OwnWords | None = None, name: str | None = None
) -> Reply:
    """``points`` points expire on ``day``: in the owner's text, ``{points}`` is the points
    expiring and ``{expires}`` the day."""
    if own is not None and (mine := own.text(locale)):
        values = {
            "name": name,
            "points": format_points(points),
            "expires": format_date(day, locale),
            "shop": own.shop.shown(locale) or None,
        }
        return Reply(text=render_template(mine, values, locale))
    text = t(
        locale, "auto.expiry_reminder", points=format_points(points), date=format_date(day, locale)
    )
    return Reply(text=text)


def tier_down_template() -> str:
    """The tier reviews' campaign message as ``/campaigns`` shows it."""
    return t(
        "th",
        "auto.tier_down",
        tier="{tier}",
        previous="{previous}",
        amount="{amount}",
        date="{date}",
    )


def tier_down_notice(tier: Tier, previous: Tier, amount: Decimal, by: date, locale: str) -> Reply:
    """Now ``tier``: spend ``amount`` more by ``by`` to get ``previous`` back."""
    text = t(
        locale,
        "auto.tier_down",
        tier=tier_name(locale, tier),
        previous=tier_name(locale, previous),
        amount=format_baht(max(amount, Decimal(0)), locale),
        date=format_date(by, locale),
    )
    return Reply(text=text)


def automation_offer(automation: str, day: date, gift: tuple[str, str]) -> Offer:
    """The birthday or win-back coupon of ``day`` with the owner's ``gift``; the default gift
    keeps its catalog title, another one is titled from its kind when shown."""
    build, default = (
        (birthday_offer, BIRTHDAY_GIFT)
        if automation == "birthday"
        else (winback_offer, WINBACK_GIFT)
    )
    titles = coupon_titles(automation, gift[1]) if gift == default else ("", "")
    return build(day, gift, titles)


def coupon_titles(automation: str, percent: str) -> tuple[str, str]:
    """(Thai, English) title of an automation's discount coupon, kept on the coupon so each
    member reads it in their language whenever they open it."""
    key = f"auto.{automation}_coupon"
    return t("th", key, pct=percent), t("en", key, pct=percent)
