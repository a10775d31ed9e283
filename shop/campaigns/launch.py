"""Starting a campaign: the audience snapshot and its outbox rows, in one transaction; pausing
and resuming its sending.

The audience is the campaign's segment, enrolled set-based by
:func:`shop.campaigns.enrol.enrol_staged` (the hold-out drawn in SQL, the contact policy's
exclusions, the audience and outbox rows written by ``INSERT … SELECT``). It is taken in keyset
pages of ``batch_size`` member ids, never loaded whole, and each page's eligibility is computed
for that page's members only (so the launch stays linear in the audience); the caller's unit of
work holds everything, so an error anywhere leaves no trace. What each member reads is the
caller's wording (:class:`LaunchWording`)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Final, Protocol
from zoneinfo import ZoneInfo

from bot.core.errors import DomainError, InvalidInput
from shop.campaigns.enrol import Payload, enrol_staged, in_holdout
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
    "OfferBranchesClosed",
    "OfferEnded",
    "Paused",
    "Renderer",
    "audience_rows",
    "campaign_offer",
    "check_offer",
    "check_offer_branches",
    "closed_offer_branches",
    "in_holdout",
    "pause_campaign",
    "resume_campaign",
    "segment_env",
    "start_campaign",
]

#: members a launch enrols per page: past about ten thousand the page's half-dozen fixed
#: statements cost nothing per member, and below about forty thousand PostgreSQL's ranking of
#: the page's chat accounts still sorts within its default ``work_mem`` (4 MB)
DEFAULT_BATCH: Final = 20_000
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


class OfferEnded(InvalidInput):
    """The campaign's offer is over by the time the campaign would go out: a promotion nobody
    can use any more is not sent. ``last_day``: the offer's last valid day (shop time)."""

    key = "campaign.offer_ended"

    def __init__(self, campaign_id: int, last_day: date) -> None:
        super().__init__(id=campaign_id, day=last_day.isoformat())
        self.campaign_id = campaign_id
        self.last_day = last_day


class OfferBranchesClosed(InvalidInput):
    """The campaign's offer is good only at branches that are all closed now (closed after
    the campaign was made): nobody could redeem its coupon, so it is not sent. ``codes``: those
    branches."""

    key = "campaign.offer_branches_closed"

    def __init__(self, campaign_id: int, codes: tuple[str, ...]) -> None:
        super().__init__(id=campaign_id, branches=", ".join(codes))
        self.campaign_id = campaign_id
        self.codes = codes


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

    def same_for(self, locale: str | None) -> Payload | None:
        """Everyone's payload in ``locale`` when the message shows nothing else of the
        member (written set-based, one statement per language), else None."""
        ...


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


def check_offer(campaign: Campaign, at: datetime, tz: ZoneInfo) -> None:
    """Raise :class:`OfferEnded` when the campaign's offer has ended at ``at`` (its last valid
    day, shop time ``tz``, is over); a campaign without an offer, or an open-ended one, passes."""
    offer = campaign_offer(campaign)
    if offer is not None and offer.valid_until is not None and offer.ended_by(at, tz):
        raise OfferEnded(campaign.id, offer.valid_until)


async def closed_offer_branches(uow: UnitOfWork, offer: Offer | None) -> tuple[str, ...]:
    """The offer's branches when it is good only at branches that are all closed now (its
    coupon could be redeemed nowhere); empty when it is good somewhere (or everywhere)."""
    if offer is None or not offer.branches:
        return ()
    open_codes = {branch.code for branch in await uow.branches.active()}
    return () if open_codes.intersection(offer.branches) else offer.branches


async def check_offer_branches(uow: UnitOfWork, campaign: Campaign) -> None:
    """Raise :class:`OfferBranchesClosed` when every branch the campaign's offer is good at
    is closed now."""
    if closed := await closed_offer_branches(uow, campaign_offer(campaign)):
        raise OfferBranchesClosed(campaign.id, closed)


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
    any more, e.g. a second /send or a job racing the owner. Raises :class:`OfferEnded`
    (writing nothing) when its offer's last day is over, :class:`OfferBranchesClosed` when
    every branch it is good at is closed. The caller commits.
    """
    check_offer(campaign, now, env.tz)  # a promotion nobody can use any more is not sent
    await check_offer_branches(uow, campaign)
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
    result = await _enrol_all(uow, campaign, members, env, policy, messages, now, since, batch_size)
    await uow.audit.record(
        actor,
        "campaign.sent",
        now,
        campaign_id=campaign.id,
        recipients=result.queued,
        holdout=result.holdout,
    )
    return result


async def _enrol_all(
    uow: UnitOfWork,
    campaign: Campaign,
    members: MemberQuery,
    env: SegmentEnv,
    policy: ContactPolicy,
    messages: Renderer,
    now: datetime,
    since: datetime | None,
    batch_size: int,
) -> LaunchResult:
    """Every member of ``members`` enrolled set-based, ``batch_size`` members a page.

    The launch is one transaction however it is paged (all or nothing: a launch that fails
    leaves a draft to start again), so on SQLite the write lock is held to the end either way;
    a page bounds what one statement sorts (the accounts ranked) and, for a message rendered
    member by member, the rows held in memory. Every page is staged before any row is written
    (``storage.repositories.enrolment`` says why)."""
    pages: list[tuple[int, int]] = []
    last_id = 0
    await uow.enrolment.open()
    while (page_end := await uow.enrolment.page_end(members, last_id, batch_size)) is not None:
        page = uow.enrolment.between(members, last_id, page_end)
        lookup = uow.enrolment.looks_up_accounts
        query = eligibility(env, page, policy=policy, lookup=lookup)
        await uow.enrolment.stage(query, campaign.id, campaign.holdout_pct)
        pages.append((last_id, page_end))
        last_id = page_end
    done = await enrol_staged(uow, campaign, pages, message=messages, now=now, spend_since=since)
    await uow.enrolment.clear()
    return LaunchResult(True, done.queued, done.holdout, done.queued, Counter(done.excluded))


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
