"""The numbers of the daily digest: one shop day, for the whole shop or for one branch.

Every number is an SQL aggregate over [start, end) (one shop day, yesterday):

- sales recorded (non-voided: count, total, by branch);
- new members (joined, not erased) — for a branch, those whose home branch it is;
- coupons redeemed — for a branch, those redeemed at it;
- feedback answered (count, mean stars, ratings ≤ 2) — for a branch, about visits to it;
- campaigns and automations active that day (see :func:`campaign_lines`; cancelled ones never)
  with their sent, redeemed and revenue from ``/stats``. They are shop-wide numbers, so a
  branch digest leaves them out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Final

from jobs.automations.common import KIND_PREFIX
from shop.campaigns.stats import compute_stats
from storage.uow import UnitOfWork

#: a period (a month) plus the longest attribution window an automation uses
AUTOMATION_LOOKBACK: Final = timedelta(days=62)


@dataclass(frozen=True, slots=True)
class CampaignLine:
    name: str
    sent: int
    redeemed: int
    revenue: Decimal
    #: ``campaign``, or the automation's kind (its name is worded in the reader's language)
    kind: str = "campaign"


@dataclass
class Digest:
    day: date
    #: the branch this digest is about, (name th, name en); None for the whole shop
    branch: tuple[str, str] | None = None
    sales: int = 0
    revenue: Decimal = Decimal("0.00")
    #: (branch name th, branch name en, sales, revenue), biggest revenue first
    by_branch: list[tuple[str, str, int, Decimal]] = field(default_factory=list)
    new_members: int = 0
    redemptions: int = 0
    feedback: int = 0
    rating: float | None = None
    low_ratings: int = 0
    campaigns: list[CampaignLine] = field(default_factory=list)
    #: LINE messages left this month; None when unknown (no LINE), -1 when unlimited
    quota_left: int | None = None


async def digest_numbers(
    uow: UnitOfWork, day: date, start: datetime, end: datetime, branch_id: int | None = None
) -> Digest:
    """Everything the digest says about [start, end) (one shop day), for the whole shop or,
    with ``branch_id``, for that branch only (see the module doc)."""
    digest = Digest(day)
    if branch_id is not None:
        branch = await uow.branches.get(branch_id)
        digest.branch = (branch.name_th, branch.name_en) if branch is not None else ("", "")
    totals = uow.day_totals
    digest.sales, digest.revenue = await totals.takings(start, end, branch_id)
    digest.by_branch = [
        (b.name_th, b.name_en, b.sales, b.revenue)
        for b in await totals.takings_by_branch(start, end, branch_id)
    ]
    digest.new_members = await totals.new_members(start, end, branch_id)
    digest.redemptions = await totals.redemptions(start, end, branch_id)
    ratings = [
        rating
        for rating in await uow.feedback.by_branch(start, end)
        if branch_id is None or rating.branch_id == branch_id
    ]
    digest.feedback = sum(r.answers for r in ratings)
    digest.low_ratings = sum(r.low for r in ratings)
    if digest.feedback:
        digest.rating = sum(r.average * r.answers for r in ratings) / digest.feedback
    if branch_id is None:
        digest.campaigns = await campaign_lines(uow, start, end)
    return digest


async def campaign_lines(uow: UnitOfWork, start: datetime, end: datetime) -> list[CampaignLine]:
    """Campaigns and automations active in [start, end), with their ``/stats`` numbers.

    An owner's campaign is active from its start until it finished. An automation's campaign
    takes members in all its period and does not finish as a whole (its status may say
    ``sent`` once the first day's messages went out), so it counts as active while its last
    member is still measured: last enrolment + attribution days. An automation's period is at
    most a month: older ones (:data:`AUTOMATION_LOOKBACK`) are no longer measured.
    """
    active = await uow.day_totals.campaigns_active(start, end, KIND_PREFIX, AUTOMATION_LOOKBACK)
    lines = []
    for campaign in active:
        stats = await compute_stats(uow, campaign.id, end)
        if campaign.automation and (stats.window_end is None or stats.window_end <= start):
            continue
        recipients = stats.recipients
        lines.append(
            CampaignLine(
                campaign.name,
                recipients.sent,
                recipients.redeemed,
                recipients.revenue,
                campaign.kind,
            )
        )
    return lines
