"""The automations' messages: each automation's template (as its period campaign shows it) and
the message one member reads, in their language."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

from bot.core.keys import promotion_action
from bot.core.messages import Button, Reply
from bot.i18n import format_baht, format_date, format_points, t
from shop.loyalty import Tier
from storage.repositories.audiences import AudienceRow
from wording.loyalty import tier_name

#: one member's message, given their audience row and language
Render = Callable[[AudienceRow, str], Reply]


def birthday_template() -> str:
    """The birthday campaign's message as ``/campaigns`` shows it."""
    return t("th", "auto.birthday_message", name="{name}", until="{expires}")


def birthday_greeting(campaign_id: int, until: date) -> Render:
    """The birthday greeting with the coupon valid ``until`` and the campaign's claim button."""
    return _offer_message("auto.birthday_message", "auto.birthday_button", campaign_id, until)


def winback_template() -> str:
    """The win-back campaign's message as ``/campaigns`` shows it."""
    return t("th", "auto.winback_message", name="{name}", until="{expires}")


def winback_offer_message(campaign_id: int, until: date) -> Render:
    """The "we miss you" offer valid ``until`` with the campaign's claim button."""
    return _offer_message("auto.winback_message", "auto.winback_button", campaign_id, until)


def _offer_message(text_key: str, button_key: str, campaign_id: int, until: date) -> Render:
    """A member's offer message (``text_key`` with their name and the last day) and its claim
    button (``button_key``) for the campaign."""

    def render(row: AudienceRow, locale: str) -> Reply:
        text = t(locale, text_key, name=row.name or "", until=format_date(until, locale))
        button = Button(t(locale, button_key), promotion_action(campaign_id))
        return Reply(text=text, buttons=(button,))

    return render


def expiry_template() -> str:
    """The expiry reminders' campaign message as ``/campaigns`` shows it."""
    return t("th", "auto.expiry_reminder", points="{points}", date="{date}")


def expiry_reminder(points: int, day: date, locale: str) -> Reply:
    """``points`` points expire on ``day``."""
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


def coupon_titles(automation: str, percent: str) -> tuple[str, str]:
    """(Thai, English) title of an automation's discount coupon, kept on the coupon so each
    member reads it in their language whenever they open it."""
    key = f"auto.{automation}_coupon"
    return t("th", key, pct=percent), t("en", key, pct=percent)
