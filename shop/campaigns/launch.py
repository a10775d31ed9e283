"""Starting a campaign: the audience snapshot and its outbox rows, in one transaction.

Every member of the segment gets a ``CampaignMember`` row. The hold-out is picked by a hash of
(campaign id, member id), so a re-run or a recount agrees with the first run; the policy's
exclusion reason is recorded for every member, hold-out included, so that the comparable
groups for uplift are *recipients that were sent to* (``group='recipient' and excluded is
null``) against *hold-out members that would have been sent to* (``group='holdout' and
excluded is null``). Only the former get an outbox row (``cmp:<campaign>:<member>``).

The audience is read in keyset pages of ``batch_size`` member ids, never loaded whole, and
each page's eligibility is computed for that page's members only (so the launch stays linear
in the audience); the caller's unit of work holds everything, so an error anywhere leaves no
trace.
"""

from __future__ import annotations

import hashlib
import uuid
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, literal, select

from bot.core.errors import DomainError
from bot.core.messages import Button, Reply
from bot.core.wire import replies_to_payload
from bot.i18n import format_date, format_points, t
from shop.campaigns.offers import Offer
from shop.campaigns.templates import placeholders_in, render_template
from shop.contact_policy import ContactPolicy, eligibility, load_policy
from shop.loyalty import LoyaltyRules, add_months, load_rules, tier_name
from storage.bulk import bulk_insert
from storage.models import Branch, Campaign, CampaignMember, Member, OutboxMessage, Sale, table_of
from storage.segments import LifecycleRules, SegmentEnv, resolve_segment
from storage.uow import UnitOfWork

ACTION_NAMESPACE: Final = "cmp"
DEFAULT_BATCH: Final = 500
LIFECYCLE_KEY: Final = "lifecycle"


@dataclass
class LaunchResult:
    started: bool
    recipients: int = 0
    holdout: int = 0
    queued: int = 0
    excluded: Counter[str] = field(default_factory=Counter)


def outbox_key(campaign_id: int, member_id: int) -> str:
    return f"cmp:{campaign_id}:{member_id}"


def in_holdout(campaign_id: int, member_id: int, pct: int) -> bool:
    """Deterministic: the same member of the same campaign is always on the same side."""
    digest = hashlib.sha256(f"{campaign_id}:{member_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % 10000 < pct * 100


async def segment_env(uow: UnitOfWork, now: datetime, tz: ZoneInfo) -> SegmentEnv:
    """The segment engine's environment with the shop's lifecycle thresholds and tiers."""
    rules = await load_rules(uow)
    return SegmentEnv(
        now,
        tz,
        LifecycleRules.from_setting(await uow.settings.get(LIFECYCLE_KEY)),
        tiers=tuple((tier.name, tier.min_spend) for tier in rules.tiers),
        tier_window_months=rules.tier_window_months,
    )


def campaign_offer(campaign: Campaign) -> Offer | None:
    return Offer.from_json(campaign.offer) if campaign.offer else None


def campaign_replies(campaign: Campaign, values: Mapping[str, str | None], locale: str) -> Reply:
    """The promotion as one member sees it: the rendered text and its claim button."""
    label = campaign.button_label or t(locale, "campaign.default_button")
    return Reply(
        text=render_template(campaign.message, values, locale),
        buttons=(Button(label, f"{ACTION_NAMESPACE}:{campaign.id}"),),
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
        "coupon": offer.title(locale) if offer else None,
        "expires": expires,
        "shop": shop or None,
    }


def audience_rows(
    env: SegmentEnv,
    members: Select[Any],
    policy: ContactPolicy,
    rules: LoyaltyRules,
    *,
    with_spend: bool = True,
) -> Select[Any]:
    """Eligibility plus what rendering needs, per member, in member id order (``spend`` is 0
    without ``with_spend``: only ``{tier}`` needs it, and it is a sum over each member's sales)."""
    elig = eligibility(env, members, policy=policy).subquery("elig")
    since = add_months(env.now, -rules.tier_window_months)
    spend: Any = literal(0)
    if with_spend:
        spend = (
            select(func.coalesce(func.sum(Sale.amount), 0))
            .where(Sale.member_id == elig.c.member_id, Sale.voided_at.is_(None))
            .where(Sale.occurred_at >= since)
            .scalar_subquery()
        )
    return (
        select(
            elig.c.member_id,
            elig.c.channel,
            elig.c.user_id,
            elig.c.excluded,
            Member.name,
            Member.locale,
            Member.points_balance,
            spend.label("spend"),
            Branch.name_th,
            Branch.name_en,
        )
        .join(Member, Member.id == elig.c.member_id)
        .outerjoin(Branch, Branch.id == Member.home_branch_id)
        .order_by(elig.c.member_id)
    )


def _money(value: Any) -> Decimal:
    """The spend column (a Money sum: already baht as Decimal; 0 when there were no sales)."""
    return value if isinstance(value, Decimal) else Decimal(value or 0)


async def start_campaign(
    uow: UnitOfWork,
    campaign: Campaign,
    env: SegmentEnv,
    now: datetime,
    *,
    shop_name: str = "",
    actor: str = "system",
    batch_size: int = DEFAULT_BATCH,
) -> LaunchResult:
    """Start ``campaign`` once: status ``sending``, the audience snapshot and the outbox rows.

    Returns ``started=False`` (writing nothing) when it is not a draft or scheduled campaign
    any more, e.g. a second /send or a job racing the owner. The caller commits.
    """
    if not await uow.campaigns.claim_start(campaign.id, now):
        return LaunchResult(started=False)
    await uow.session.refresh(campaign)
    try:
        rule_text, members = await resolve_segment(uow, campaign.segment_name, env)
    except DomainError:  # the saved segment is gone: the rule snapshot taken at creation stands
        rule_text, members = await resolve_segment(uow, campaign.rule, env)
    campaign.rule = rule_text
    policy = await load_policy(uow.settings)
    rules = await load_rules(uow)
    payloads = _Payloads(campaign, env, now, rules, shop_name)
    segment = members.subquery("segment")
    segment_id = next(iter(segment.c))
    result = LaunchResult(started=True)
    last_id = 0
    while True:
        # the page's member ids first, then eligibility for those alone: asking the whole
        # audience query for "the next page" re-ranked every chat account of the shop per
        # page, which made a launch quadratic in the size of the audience
        ids = list(
            (
                await uow.session.execute(
                    select(segment_id)
                    .where(segment_id > last_id)
                    .order_by(segment_id)
                    .limit(batch_size)
                )
            ).scalars()
        )
        if not ids:
            break
        last_id = ids[-1]
        page_ids = select(Member.id).where(Member.id.in_(ids))
        query = audience_rows(env, page_ids, policy, rules, with_spend=payloads.needs_spend)
        page = list((await uow.session.execute(query)).all())
        await _write_page(uow, campaign, page, payloads, now, result)
    await uow.audit.record(
        actor,
        "campaign.sent",
        now,
        campaign_id=campaign.id,
        recipients=result.queued,
        holdout=result.holdout,
    )
    return result


class _Payloads:
    """Each recipient's outbox payload, rendered once per distinct combination of the values
    the template actually uses: a message without per-member placeholders is rendered once per
    language, not once per member (rendering per member was a large share of a big launch)."""

    #: at most this many rendered payloads are kept (a template with {name} has one a member)
    KEEP: Final = 4096

    def __init__(
        self, campaign: Campaign, env: SegmentEnv, now: datetime, rules: LoyaltyRules, shop: str
    ) -> None:
        self._campaign, self._env, self._now, self._rules, self._shop = (
            campaign,
            env,
            now,
            rules,
            shop,
        )
        self._offer = campaign_offer(campaign)
        self._used = placeholders_in(campaign.message)
        self.needs_spend = "tier" in self._used
        self._rendered: dict[tuple[Any, ...], dict[str, Any]] = {}

    def __call__(self, row: Any) -> dict[str, Any]:
        locale = row.locale or "th"
        used = self._used
        tier = None
        if self.needs_spend:
            tier = tier_name(locale, self._rules.tier_for(_money(row.spend))[0])
        branch = (row.name_th if locale == "th" else row.name_en) if "branch" in used else None
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
                tz=self._env.tz,
                shop=self._shop,
            )
            payload = replies_to_payload([campaign_replies(self._campaign, values, locale)])
            if len(self._rendered) >= self.KEEP:
                self._rendered.clear()
            self._rendered[key] = payload
        return payload


async def _write_page(
    uow: UnitOfWork,
    campaign: Campaign,
    page: list[Any],
    payloads: _Payloads,
    now: datetime,
    result: LaunchResult,
) -> None:
    audience: list[dict[str, Any]] = []
    outbox: list[dict[str, Any]] = []
    for row in page:
        holdout = in_holdout(campaign.id, row.member_id, campaign.holdout_pct)
        key = None
        if row.excluded is not None:
            result.excluded[row.excluded] += 1
        elif holdout:
            result.holdout += 1
        else:
            result.recipients += 1
            key = outbox_key(campaign.id, row.member_id)
            outbox.append(_outbox_row(key, row, payloads(row), now))
        audience.append(
            {
                "campaign_id": campaign.id,
                "member_id": row.member_id,
                "group": "holdout" if holdout else "recipient",
                "channel": row.channel,
                "excluded": row.excluded,
                "outbox_key": key,
            }
        )
    # straight to the driver (COPY on PostgreSQL): two rows per member of the audience
    connection = await uow.session.connection()
    await bulk_insert(connection, table_of(CampaignMember), audience)
    if outbox:
        await bulk_insert(connection, table_of(OutboxMessage), outbox)
        uow.outbox.enqueued += len(outbox)
        result.queued += len(outbox)


def _outbox_row(key: str, row: Any, payload: dict[str, Any], now: datetime) -> dict[str, Any]:
    return {
        "dedupe_key": key,
        "channel": row.channel,
        "user_id": row.user_id,
        "member_id": row.member_id,
        "promotional": True,
        "payload": payload,
        "status": "pending",
        "attempts": 0,
        "retry_key": str(uuid.uuid4()),
        "not_before": now,
        "created_at": now,
    }
