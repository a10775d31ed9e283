"""Starting a campaign: the audience snapshot and its outbox rows, in one transaction; pausing
and resuming its sending.

The audience is the campaign's segment, enrolled by :func:`shop.campaigns.enrol.enrol` (the
hold-out, the exclusions, the outbox rows). It is read in keyset pages of ``batch_size``
member ids, never loaded whole, and each page's eligibility is computed for that page's
members only (so the launch stays linear in the audience); the caller's unit of work holds
everything, so an error anywhere leaves no trace. What each member reads is the caller's
wording (:class:`LaunchWording`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final, Protocol
from zoneinfo import ZoneInfo

from bot.core.errors import DomainError
from shop.campaigns.enrol import Payload, enrol, in_holdout, read_audience
from shop.campaigns.offers import Offer
from shop.contact_policy import ContactPolicy, eligibility, load_policy
from shop.loyalty import LoyaltyRules, add_months, load_rules
from storage.models import Campaign
from storage.repositories.audiences import AudienceRow, MemberQuery, audience_query
from storage.segments import LifecycleRules, SegmentEnv, resolve_segment
from storage.uow import UnitOfWork

__all__ = [
    "DEFAULT_BATCH",
    "LaunchResult",
    "LaunchWording",
    "Paused",
    "Renderer",
    "audience_rows",
    "campaign_offer",
    "in_holdout",
    "pause_campaign",
    "resume_campaign",
    "segment_env",
    "start_campaign",
]

DEFAULT_BATCH: Final = 500
LIFECYCLE_KEY: Final = "lifecycle"
#: how far ahead a paused campaign's messages are held (resuming brings them back at once)
PARKED: Final = timedelta(days=3650)


@dataclass(frozen=True)
class LaunchResult:
    """A launch: ``started`` False when the campaign was not startable (nothing written);
    else its recipients (all queued), hold-out and exclusions per reason."""

    started: bool
    recipients: int = 0
    holdout: int = 0
    queued: int = 0
    excluded: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True, slots=True)
class Paused:
    """``paused``: the campaign was sending and is paused now; ``pending``: its messages held."""

    paused: bool
    pending: int


class Renderer(Protocol):
    """One campaign's message per member of its audience, as an outbox payload."""

    @property
    def needs_spend(self) -> bool:
        """Whether the message shows something of the member's spend (their tier)."""
        ...

    def __call__(self, row: AudienceRow) -> Payload: ...


class LaunchWording(Protocol):
    """The caller's wording of a campaign's message."""

    def for_campaign(
        self, campaign: Campaign, rules: LoyaltyRules, now: datetime, tz: ZoneInfo
    ) -> Renderer: ...


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
    """The campaign's offer, if it has one."""
    return Offer.from_json(campaign.offer) if campaign.offer else None


def audience_rows(
    env: SegmentEnv,
    members: MemberQuery,
    policy: ContactPolicy,
    rules: LoyaltyRules,
    *,
    with_spend: bool = True,
) -> MemberQuery:
    """The audience query (eligibility plus what rendering needs, per member, in member id
    order) for a preview that pages it itself; ``spend`` is 0 without ``with_spend``."""
    since = add_months(env.now, -rules.tier_window_months) if with_spend else None
    return audience_query(eligibility(env, members, policy=policy), spend_since=since)


async def start_campaign(
    uow: UnitOfWork,
    campaign: Campaign,
    env: SegmentEnv,
    now: datetime,
    *,
    wording: LaunchWording,
    actor: str = "system",
    batch_size: int = DEFAULT_BATCH,
) -> LaunchResult:
    """Start ``campaign`` once: status ``sending``, the audience snapshot and the outbox rows,
    each recipient's message worded by ``wording``.

    Returns ``started=False`` (writing nothing) when it is not a draft or scheduled campaign
    any more, e.g. a second /send or a job racing the owner. The caller commits.
    """
    if not await uow.campaigns.claim_start(campaign.id, now):
        return LaunchResult(started=False)
    await uow.campaigns.get(campaign.id)  # reloads ``campaign`` (status, started_at)
    try:
        rule_text, members = await resolve_segment(uow, campaign.segment_name, env)
    except DomainError:  # the saved segment is gone: the rule snapshot taken at creation stands
        rule_text, members = await resolve_segment(uow, campaign.rule, env)
    campaign.rule = rule_text
    policy = await load_policy(uow.settings)
    rules = await load_rules(uow)
    messages = wording.for_campaign(campaign, rules, now, env.tz)
    since = add_months(env.now, -rules.tier_window_months) if messages.needs_spend else None
    holdout = queued = 0
    excluded: Counter[str] = Counter()
    last_id = 0
    # a page of member ids first, then eligibility for those alone: asking the whole audience
    # query for "the next page" would rank every chat account of the shop again for each page,
    # making a launch quadratic in the size of the audience
    while ids := await uow.audiences.page(members, last_id, batch_size):
        last_id = ids[-1]
        page_members = uow.audiences.members(ids)
        page = await read_audience(uow, env, page_members, policy, spend_since=since)
        done = await enrol(uow, campaign, page, message=messages, now=now)
        holdout, queued = holdout + done.holdout, queued + done.queued
        excluded.update(done.excluded)
    await uow.audit.record(
        actor, "campaign.sent", now, campaign_id=campaign.id, recipients=queued, holdout=holdout
    )
    return LaunchResult(True, queued, holdout, queued, excluded)


async def pause_campaign(uow: UnitOfWork, campaign_id: int, now: datetime) -> Paused:
    """Pause a sending campaign and hold its pending messages (held again if it was paused
    already); the caller tells the owners when ``paused``."""
    paused = await uow.campaigns.move_status(campaign_id, "sending", "paused")
    pending = await uow.campaigns.park_pending(campaign_id, now + PARKED)
    return Paused(paused, pending)


async def resume_campaign(uow: UnitOfWork, campaign_id: int, now: datetime) -> int:
    """Set a paused campaign sending again and make its held messages due now; returns how
    many were brought back (0 if the campaign was not paused)."""
    if not await uow.campaigns.move_status(campaign_id, "paused", "sending"):
        return 0
    return await uow.campaigns.park_pending(campaign_id, now)
