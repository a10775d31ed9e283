"""What a campaign did: per group (recipients vs hold-out) counts, money and the uplift.

Everything is a SQL aggregate over the audience snapshot (``campaign_members``): delivery from
the outbox rows it points at (``outbox_key`` = ``dedupe_key``; no copy of the status is kept),
responses from its own columns, redemptions from the campaign's coupons, visits and revenue from
the non-voided sales in each member's attribution window (``attribution_days`` from the start,
or from when an automation enrolled them; see :mod:`shop.campaigns.stats_sales`) and in the
weeks before it (for the regression adjustment of the uplift).

Money: the cost counts the LINE messages and the coupons redeemed inside each member's window
(later ones are counted apart); extra revenue and ROI are given as 95% ranges, and only when
the uplift's interval excludes 0. A recipient whom another campaign also messaged in this one's
window is counted (``overlapping``): each campaign's comparison stays fair, but the extra
revenue of overlapping campaigns does not add up.

Who is measured: the money figures and the uplift compare the members of each group who were
not excluded (``excluded IS NULL``): the hold-out is drawn by lot from the same eligible
audience, so this is a like-for-like comparison. Recipients whose message failed or who had
blocked the bot stay in (intention to treat): the hold-out has such members too, we just cannot
see them.

Blocks and /stop within 48 hours: a ``ContactEvent`` counts for this campaign when it happened
within 48 hours after this campaign's message reached the member (for the hold-out: after the
campaign started) and no other campaign reached them in between — the *last* campaign takes the
blame. Candidate events are selected in SQL (``storage.repositories.campaign_results``); the
48-hour check runs on those few rows here because date arithmetic differs between SQLite and
PostgreSQL.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Final

from bot.core.capabilities import capabilities_of
from bot.core.errors import NotFound
from shop.campaigns.stats_sales import last_window_end, sales_by_group
from shop.campaigns.uplift import (
    Estimate,
    GroupSample,
    Moments,
    Verdict,
    adjusted_difference,
    proportion_difference,
)
from storage.types import SATANG_PER_BAHT
from storage.uow import UnitOfWork

RECIPIENT: Final = "recipient"
HOLDOUT: Final = "holdout"
BLOCK_WINDOW: Final = timedelta(hours=48)
#: the contact events a campaign can be blamed for
BLAMED_KINDS: Final = ("blocked", "stopped")


class CampaignNotFound(NotFound):
    key = "stats.no_campaign"


@dataclass(frozen=True, slots=True)
class GroupStats:
    """One group of a campaign's audience. ``measured`` members (not excluded) are the base of
    conversion and revenue per member; ``members`` counts every row, excluded ones too."""

    members: int = 0
    measured: int = 0
    excluded: dict[str, int] = field(default_factory=dict)
    sent: int = 0
    failed: int = 0
    unreachable: int = 0
    pending: int = 0
    #: queued but withdrawn unsent: the campaign was cancelled, or the member sent /stop, was
    #: erased or blocked the bot first (``shop.withdrawal``)
    withdrawn: int = 0
    clicked: int = 0
    claimed: int = 0
    redeemed: int = 0
    converters: int = 0
    visits: int = 0
    revenue: Decimal = Decimal("0.00")
    #: sum over measured members of (their revenue in satang)², for the variance
    revenue_sq_satang: float = 0.0
    #: the measured members' revenue over the history before their window (baht), its sum
    #: of squares and its sum of products with the window's revenue; and the revenue in the
    #: one window of the same length before theirs and its sum of squares: the regression
    #: adjustment's aggregates (``shop.campaigns.uplift.Moments``)
    earlier: float = 0.0
    earlier_sq: float = 0.0
    earlier_cross: float = 0.0
    same_length: float = 0.0
    same_length_sq: float = 0.0
    #: coupons redeemed after the member's attribution window: not counted in the cost
    redeemed_late: int = 0
    blocked: int = 0
    stopped: int = 0

    @property
    def conversion(self) -> float | None:
        """Share of measured members with at least one visit in the window; None when nobody
        was measured (a share of nobody is undefined, not 0)."""
        return self.converters / self.measured if self.measured else None

    @property
    def revenue_per_member(self) -> Decimal | None:
        """Mean revenue of the measured members; None when nobody was measured."""
        if not self.measured:
            return None
        return (self.revenue / self.measured).quantize(Decimal("0.01"))

    def revenue_sample(self) -> GroupSample:
        """Per-member revenue in baht as (n, sum, sum of squares)."""
        baht_sq = self.revenue_sq_satang / (SATANG_PER_BAHT * SATANG_PER_BAHT)
        return GroupSample(self.measured, float(self.revenue), baht_sq)

    def revenue_moments(self) -> Moments:
        """Per-member revenue and earlier revenue in baht, for the adjusted uplift."""
        sample = self.revenue_sample()
        return Moments(
            sample.n,
            sample.total,
            sample.total_sq,
            self.earlier,
            self.earlier_sq,
            self.earlier_cross,
            self.same_length,
            self.same_length_sq,
        )


@dataclass(frozen=True, slots=True)
class CampaignStats:
    """The numbers ``/stats`` shows (and the flagship end-to-end test checks)."""

    campaign_id: int
    name: str
    status: str
    started_at: datetime | None
    window_end: datetime | None
    recipients: GroupStats
    holdout: GroupStats
    #: recipients minus hold-out, baht per member
    revenue_uplift: Estimate
    #: recipients minus hold-out, share of members who visited
    conversion_uplift: Estimate
    #: LINE messages delivered (each one costs ``line_message_price``)
    line_messages: int
    cost: Decimal
    #: revenue uplift per member × measured recipients (a point estimate)
    incremental_revenue: Decimal
    #: (incremental revenue − cost) / cost; None when the campaign cost nothing
    roi: float | None
    #: the share held out as set on the campaign; 0 for a notice sent to everyone
    holdout_pct: int = 10
    #: ``campaign`` for an owner's campaign, else the automation's kind
    kind: str = "campaign"
    #: the 95% interval of the extra revenue (the uplift interval × measured recipients);
    #: None unless the interval excludes 0 (no number is claimed for "no detectable effect")
    incremental_range: tuple[Decimal, Decimal] | None = None
    #: the ROI at either end of that interval; None as above or when nothing was spent
    roi_range: tuple[float, float] | None = None
    #: recipients whom another campaign also messaged in this one's window (their sales
    #: count in both campaigns' figures: revenue does not add up across campaigns)
    overlapping: int = 0

    @property
    def too_few(self) -> bool:
        return self.revenue_uplift.verdict is Verdict.TOO_FEW

    @property
    def no_holdout(self) -> bool:
        """No hold-out was kept on purpose (0%): the uplift is not measured, not "too few"."""
        return self.holdout_pct == 0


async def compute_stats(uow: UnitOfWork, campaign_id: int, now: datetime) -> CampaignStats:
    """The stats of campaign ``campaign_id`` as of ``now`` (read-only; raises
    :class:`CampaignNotFound` for an unknown id). A campaign not started yet has all zeros."""
    campaign = await uow.campaigns.get(campaign_id)
    if campaign is None:
        raise CampaignNotFound()
    start, days = campaign.started_at, campaign.attribution_days
    window_end, enrolled = (
        await last_window_end(uow, campaign_id, start, days) if start else (None, False)
    )
    groups: dict[str, dict[str, object]] = defaultdict(dict)
    await _audience(uow, campaign_id, groups)
    line_messages = await _delivery(uow, campaign_id, now, groups)
    overlapping = 0
    if start is not None and window_end is not None:
        await _redemptions(uow, campaign_id, start, days, now, groups)
        await sales_by_group(uow, campaign_id, start, days, now, groups, enrolled=enrolled)
        await _blame(uow, campaign_id, start, now, groups)
        overlapping = await uow.campaign_results.overlapping_recipients(
            campaign_id, start - timedelta(days=days), window_end, RECIPIENT
        )
    recipients = _group(groups.get(RECIPIENT, {}))
    holdout = _group(groups.get(HOLDOUT, {}))

    converters = recipients.converters + holdout.converters
    revenue_uplift = adjusted_difference(
        recipients.revenue_moments(), holdout.revenue_moments(), converters
    )
    conversion_uplift = proportion_difference(
        recipients.converters, recipients.measured, holdout.converters, holdout.measured
    )
    cost = line_messages * campaign.line_message_price + recipients.redeemed * campaign.offer_cost
    # without anyone held out there is nothing to compare with: no extra revenue is claimed
    compared = holdout.measured > 0
    incremental = baht(revenue_uplift.difference * recipients.measured) if compared else baht(0)
    roi = float((incremental - cost) / cost) if cost > 0 else None
    ranges = _ranges(revenue_uplift, recipients.measured, cost) if compared else (None, None)
    return CampaignStats(
        campaign_id=campaign.id,
        name=campaign.name,
        kind=campaign.kind,
        status=campaign.status,
        started_at=start,
        window_end=window_end,
        recipients=recipients,
        holdout=holdout,
        revenue_uplift=revenue_uplift,
        conversion_uplift=conversion_uplift,
        line_messages=line_messages,
        cost=cost.quantize(Decimal("0.01")),
        incremental_revenue=incremental,
        roi=roi,
        holdout_pct=campaign.holdout_pct,
        incremental_range=ranges[0],
        roi_range=ranges[1],
        overlapping=overlapping,
    )


def _ranges(
    uplift: Estimate, recipients: int, cost: Decimal
) -> tuple[tuple[Decimal, Decimal] | None, tuple[float, float] | None]:
    """The extra revenue's and the ROI's 95% intervals, only when the uplift's excludes 0."""
    if not uplift.detected:
        return None, None
    low, high = baht(uplift.low * recipients), baht(uplift.high * recipients)
    if cost <= 0:
        return (low, high), None
    return (low, high), (float((low - cost) / cost), float((high - cost) / cost))


def baht(value: float) -> Decimal:
    if not math.isfinite(value):
        return Decimal("0.00")
    return Decimal(str(round(value, 2))).quantize(Decimal("0.01"))


def _group(values: dict[str, object]) -> GroupStats:
    return GroupStats(**values)  # type: ignore[arg-type]


def _add(groups: dict[str, dict[str, object]], group: str, name: str, value: object) -> None:
    groups[group][name] = value


async def _audience(
    uow: UnitOfWork, campaign_id: int, groups: dict[str, dict[str, object]]
) -> None:
    rows = await uow.campaign_results.audience_counts(campaign_id)
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    excluded: dict[str, dict[str, int]] = defaultdict(dict)
    for group, reason, members, clicked, claimed in rows:
        total = totals[group]
        total[0] += members
        total[2] += clicked
        total[3] += claimed
        if reason is None:
            total[1] += members
        else:
            excluded[group][reason] = members
    for group, (members, measured, clicked, claimed) in totals.items():
        _add(groups, group, "members", members)
        _add(groups, group, "measured", measured)
        _add(groups, group, "clicked", clicked)
        _add(groups, group, "claimed", claimed)
        _add(groups, group, "excluded", excluded.get(group, {}))


async def _delivery(
    uow: UnitOfWork, campaign_id: int, now: datetime, groups: dict[str, dict[str, object]]
) -> int:
    """Counts the outbox outcomes per group as of ``now`` (a message sent after it was still
    waiting then: yesterday's digest, run this morning, counts yesterday's sends only);
    returns the number of LINE messages sent."""
    rows = await uow.campaign_results.delivery_counts(campaign_id, now)
    line_messages = 0
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for group, status, channel, count in rows:
        counts[group][status] += count
        if status == "sent" and capabilities_of(channel).metered:
            line_messages += count
    for group, by_status in counts.items():
        for status in ("sent", "failed", "unreachable", "pending"):
            _add(groups, group, status, by_status.get(status, 0))
        _add(groups, group, "withdrawn", by_status.get("cancelled", 0))
    return line_messages


async def _redemptions(
    uow: UnitOfWork,
    campaign_id: int,
    start: datetime,
    days: int,
    now: datetime,
    groups: dict[str, dict[str, object]],
) -> None:
    """Coupons redeemed by ``now`` in each member's attribution window (the campaign's
    cost) and after it (shown apart)."""
    rows = await uow.campaign_results.redemptions(campaign_id, start, days, now)
    for group, in_window, late in rows:
        _add(groups, group, "redeemed", int(in_window))
        _add(groups, group, "redeemed_late", int(late))


async def _blame(
    uow: UnitOfWork,
    campaign_id: int,
    start: datetime,
    now: datetime,
    groups: dict[str, dict[str, object]],
) -> None:
    """Blocks and /stop within 48 h after this campaign reached the member (see the module
    docstring); each member counts at most once per kind."""
    rows = await uow.campaign_results.blame_candidates(
        campaign_id, start, now, holdout=HOLDOUT, kinds=BLAMED_KINDS
    )
    seen: dict[str, set[tuple[int, str]]] = defaultdict(set)
    for group, member_id, kind, reached_at, occurred_at in rows:
        if reached_at is None:
            continue
        reached_utc = _aware(reached_at)
        if _aware(occurred_at) - reached_utc <= BLOCK_WINDOW:
            seen[group].add((member_id, kind))
    for group, pairs in seen.items():
        _add(groups, group, "blocked", sum(1 for _, kind in pairs if kind == "blocked"))
        _add(groups, group, "stopped", sum(1 for _, kind in pairs if kind == "stopped"))


def _aware(moment: datetime | str) -> datetime:
    """The CASE column comes back untyped on SQLite (a string or naive value): make it UTC."""
    value = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
