"""A campaign's message as each member reads it: the owner's template with the member's values,
and the claim button; rendered once per distinct combination of the values the template uses."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Final
from zoneinfo import ZoneInfo

from bot.core.keys import promotion_action
from bot.core.messages import Button, Reply
from bot.core.wire import replies_to_payload
from bot.i18n import format_date, format_points, t
from shop.automations import KIND_PREFIX
from shop.campaigns.launch import campaign_offer
from shop.campaigns.offers import Offer
from shop.campaigns.templates import placeholders_in
from shop.loyalty import LoyaltyRules
from shop.profile import ShopNames
from storage.models import Campaign
from storage.repositories.audiences import AudienceRow
from wording.loyalty import tier_name
from wording.offers import offer_title
from wording.templates import render_template


def campaign_replies(campaign: Campaign, values: Mapping[str, str | None], locale: str) -> Reply:
    """The promotion as one member sees it: the rendered text and its claim button."""
    label = campaign.button_label or t(locale, "campaign.default_button")
    return Reply(
        text=render_template(campaign.message, values, locale),
        buttons=(Button(label, promotion_action(campaign.id)),),
    )


def member_values(
    *,
    name: str | None,
    points: int,
    tier: str | None,
    branch: str | None,
    offer: Offer | None,
    locale: str,
    now: datetime,
    tz: ZoneInfo,
    shop: str,
) -> dict[str, str | None]:
    """What each placeholder shows for one member (None: the placeholder's default)."""
    expires = None
    if offer is not None:
        last_day = (offer.expires_at(now, tz) - timedelta(microseconds=1)).date()
        expires = format_date(last_day, locale)
    return {
        "name": name,
        "points": format_points(points),
        "tier": tier,
        "branch": branch,
        "coupon": offer_title(offer, locale) if offer else None,
        "expires": expires,
        "shop": shop or None,
    }


#: the placeholders whose value is the same for every member reading one language (any other
#: shows something of the member, and the message is rendered member by member)
LANGUAGE_ONLY: Final = frozenset({"coupon", "expires", "shop"})


class CampaignMessages:
    """Each recipient's outbox payload, rendered once per distinct combination of the values
    the template actually uses: a message without per-member placeholders is rendered once per
    language, not once per member."""

    #: at most this many rendered payloads are kept (a template with {name} has one a member)
    KEEP: Final = 4096

    def __init__(
        self, campaign: Campaign, rules: LoyaltyRules, now: datetime, tz: ZoneInfo, shop: ShopNames
    ) -> None:
        self._campaign, self._rules, self._now, self._tz, self._shop = (
            campaign,
            rules,
            now,
            tz,
            shop,
        )
        self._offer = campaign_offer(campaign)
        self._used = placeholders_in(campaign.message)
        self.needs_spend = "tier" in self._used
        self._rendered: dict[tuple[Any, ...], dict[str, Any]] = {}

    def same_for(self, locale: str | None) -> dict[str, Any] | None:
        """The payload of every member reading ``locale`` when the template shows nothing of
        the member but their language (rendered by :meth:`__call__` itself), else None."""
        if self._used - LANGUAGE_ONLY:
            return None
        nobody = AudienceRow(0, None, None, None, None, locale, 0, Decimal(0), None, None)
        return self(nobody)

    def __call__(self, row: AudienceRow) -> dict[str, Any]:
        locale = row.locale or "th"
        used = self._used
        tier = None
        if self.needs_spend:
            tier = tier_name(locale, self._rules.held_tier(row.held, row.spend)[0])
        branch = (row.branch_th if locale == "th" else row.branch_en) if "branch" in used else None
        key = (
            locale,
            row.name if "name" in used else None,
            row.points_balance if "points" in used else None,
            tier,
            branch,
        )
        payload = self._rendered.get(key)
        if payload is None:
            values = member_values(
                name=row.name,
                points=row.points_balance,
                tier=tier,
                branch=branch,
                offer=self._offer,
                locale=locale,
                now=self._now,
                tz=self._tz,
                shop=self._shop.shown(locale),
            )
            payload = replies_to_payload([campaign_replies(self._campaign, values, locale)])
            if len(self._rendered) >= self.KEEP:
                self._rendered.clear()
            self._rendered[key] = payload
        return payload


@dataclass(frozen=True, slots=True)
class CampaignWording:
    """The wording a campaign's launch is given (``shop``: the shop's names for ``{shop}``,
    shown in each recipient's language)."""

    shop: ShopNames = field(default_factory=ShopNames)

    def for_campaign(
        self, campaign: Campaign, rules: LoyaltyRules, now: datetime, tz: ZoneInfo
    ) -> CampaignMessages:
        """The messages of ``campaign``'s launch at ``now``."""
        return CampaignMessages(campaign, rules, now, tz, self.shop)


def campaign_title(locale: str, name: str, kind: str, period_key: str | None = None) -> str:
    """How a campaign is named to staff: an owner's campaign by the name they gave it; an
    automation's (stored as ``birthday 2026-03``) by its label in ``locale`` and its period
    (``period_key`` when the name lacks it: an automation opens a campaign every month, and a
    list of them must tell the months apart)."""
    if not kind.startswith(KIND_PREFIX):
        return name
    automation = kind.removeprefix(KIND_PREFIX)
    period = name.removeprefix(automation).strip() or (period_key or "")
    return f"{t(locale, f'auto.label_{automation}')} {period}".strip()
