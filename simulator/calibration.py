"""Calibration of the uplift that ``/stats`` reports: simulated campaigns with a known effect.

Each :class:`Scenario` is a hidden model of what members spend in a campaign's attribution
window. Most members buy nothing; a buyer's basket is lognormal (median ฿180, σ = 1) and one
buyer in fifty is a "whale" who spends 25 times as much — the heavy tail of real shop revenue.
Recipients differ from the hold-out by a conversion lift (an absolute change in the share who
buy) and a basket factor. So the expected revenue per member is known exactly:

    hold-out:   p₀ · E[basket]          recipients:   (p₀ + lift) · factor · E[basket]

and the true uplift is their difference (:meth:`Scenario.true_effect`), zero by construction
when lift = 0 and factor = 1.

:func:`run_calibration` writes the campaigns into a real database the way the product stores
them — members, a sent campaign, its audience rows split by the product's own hold-out lot
(:func:`shop.campaigns.launch.in_holdout`), and the sales in the attribution window — and
reads back what ``/stats`` reports (:func:`shop.campaigns.stats.compute_stats`). For speed
all campaigns share one database and one pool of members: campaign *k* runs in its own week,
one week after the other, so a sale falls in exactly one campaign's window, and every table
is written with the bulk path (:func:`storage.bulk.bulk_insert`). The audience rows
are written directly rather than through ``start_campaign`` (which would also render and queue
a message per recipient — work the uplift never looks at).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Final

from sqlalchemy import insert, select

from shop.campaigns.launch import in_holdout
from shop.campaigns.stats import HOLDOUT, RECIPIENT, CampaignStats, compute_stats
from shop.campaigns.uplift import Estimate, Verdict
from storage.bulk import bulk_insert
from storage.models import Branch, Campaign, CampaignMember, Member, Sale
from storage.raw_session import session_of
from storage.uow import UnitOfWork

BASKET_MEDIAN: Final = 180.0  # baht
BASKET_SIGMA: Final = 1.0
WHALE_SHARE: Final = 0.02
WHALE_FACTOR: Final = 25.0
ATTRIBUTION_DAYS: Final = 7
#: the first calibration campaign starts here; campaign k starts k × (days + 1) later
BASE: Final = datetime(2024, 1, 1, 3, 0, tzinfo=UTC)
AUDIENCES: Final = (60, 150, 400, 2000)
HOLDOUT_PCTS: Final = (5, 10, 20, 50)
#: (conversion lift, basket factor): none, up (small, large), down
EFFECTS: Final = ((0.0, 1.0), (0.0, 1.0), (0.02, 1.0), (0.05, 1.25), (-0.03, 0.9))
BUY_RATES: Final = (0.12, 0.3)


@dataclass(frozen=True, slots=True)
class Scenario:
    """One simulated campaign: its audience, hold-out share and the hidden spending model."""

    audience: int
    holdout_pct: int
    buy_rate: float
    conversion_lift: float = 0.0
    basket_factor: float = 1.0
    whale_share: float = WHALE_SHARE

    @property
    def expected_basket(self) -> float:
        """E[basket] of an untreated buyer: the lognormal mean, whales weighted in."""
        mu = math.log(BASKET_MEDIAN)
        lognormal_mean = math.exp(mu + BASKET_SIGMA**2 / 2)
        return lognormal_mean * (1 + self.whale_share * (WHALE_FACTOR - 1))

    @property
    def true_effect(self) -> float:
        """Expected revenue per recipient minus per hold-out member, in baht."""
        treated = (self.buy_rate + self.conversion_lift) * self.basket_factor
        return (treated - self.buy_rate) * self.expected_basket

    def spend(self, rng: random.Random, treated: bool) -> float:
        """One member's spend in the window (0 for most), in baht, from the hidden model."""
        rate = self.buy_rate + (self.conversion_lift if treated else 0.0)
        if rng.random() >= rate:
            return 0.0
        basket = rng.lognormvariate(math.log(BASKET_MEDIAN), BASKET_SIGMA)
        if rng.random() < self.whale_share:
            basket *= WHALE_FACTOR
        return basket * (self.basket_factor if treated else 1.0)


@dataclass(frozen=True, slots=True)
class Trial:
    """One simulated campaign and what ``/stats`` reported for it. ``values`` keeps each
    group's per-member spend as drawn (for comparing methods that need every value)."""

    scenario: Scenario
    stats: CampaignStats
    values: dict[str, list[float]] = field(default_factory=dict)

    @property
    def true_effect(self) -> float:
        return self.scenario.true_effect

    @property
    def estimate(self) -> Estimate:
        return self.stats.revenue_uplift


def scenarios(count: int, seed: int, audiences: Sequence[int] = AUDIENCES) -> list[Scenario]:
    """``count`` scenarios cycling through every audience size, hold-out share and effect
    (the buy rate drawn with ``seed``), so each kind is represented evenly."""
    rng = random.Random(seed)
    result = []
    for k in range(count):
        lift, factor = EFFECTS[k % len(EFFECTS)]
        result.append(
            Scenario(
                audience=audiences[(k // len(EFFECTS)) % len(audiences)],
                holdout_pct=HOLDOUT_PCTS[(k // (len(EFFECTS) * len(audiences))) % 4],
                buy_rate=rng.choice(BUY_RATES),
                conversion_lift=lift,
                basket_factor=factor,
            )
        )
    return result


async def _member_pool(uow: UnitOfWork, size: int) -> tuple[list[int], int]:
    """``size`` members (ids in order) and a branch for the sales, written in bulk."""
    connection = await session_of(uow).connection()
    joined = BASE - timedelta(days=400)
    rows = [
        {"member_code": f"CAL{i:07d}", "name": f"m{i}", "joined_at": joined, "locale": "th"}
        for i in range(size)
    ]
    await bulk_insert(connection, Member.__table__, rows)  # type: ignore[arg-type]
    ids = await session_of(uow).scalars(
        select(Member.id).where(Member.member_code.like("CAL%")).order_by(Member.id)
    )
    branch = Branch(code="calibration", name_th="calibration", name_en="calibration")
    session_of(uow).add(branch)
    await uow.flush()
    return list(ids), branch.id


async def _write_campaign(
    uow: UnitOfWork,
    index: int,
    scenario: Scenario,
    members: list[int],
    branch_id: int,
    rng: random.Random,
) -> tuple[int, dict[str, list[float]]]:
    start = BASE + timedelta(days=index * (ATTRIBUTION_DAYS + 1))
    campaign = Campaign(
        name=f"calibration {index}",
        segment_name="calibration",
        rule="points >= 0",
        message="Hi {name}",
        holdout_pct=scenario.holdout_pct,
        attribution_days=ATTRIBUTION_DAYS,
        status="sent",
        started_at=start,
        created_by="calibration",
        created_at=start,
    )
    session_of(uow).add(campaign)
    await uow.flush()
    audience, sales = [], []
    values: dict[str, list[float]] = {RECIPIENT: [], HOLDOUT: []}
    window = ATTRIBUTION_DAYS * 86_400 - 60
    for member_id in members[: scenario.audience]:
        group = HOLDOUT if in_holdout(campaign.id, member_id, scenario.holdout_pct) else RECIPIENT
        audience.append(
            {"campaign_id": campaign.id, "member_id": member_id, "group": group, "channel": "line"}
        )
        spend = round(scenario.spend(rng, group == RECIPIENT), 2)
        values[group].append(spend)
        if spend <= 0:
            continue
        # a buyer comes once or twice; /stats sums their visits per member
        parts = [spend] if spend < 1 or rng.random() < 0.7 else [round(spend / 2, 2)] * 2
        parts[-1] = round(spend - sum(parts[:-1]), 2)
        for n, amount in enumerate(parts):
            sales.append(
                {
                    "receipt_no": f"CAL{campaign.id}-{member_id}-{n}",
                    "member_id": member_id,
                    "branch_id": branch_id,
                    "amount": Decimal(str(amount)),
                    "occurred_at": start + timedelta(seconds=rng.uniform(1, window)),
                    "source": "import",
                }
            )
    connection = await session_of(uow).connection()
    # Core executemany, not bulk_insert: the latter's SQLite statement does not quote the
    # column named "group"
    await connection.execute(insert(CampaignMember.__table__), audience)  # type: ignore[arg-type]
    await bulk_insert(connection, Sale.__table__, sales)  # type: ignore[arg-type]
    return campaign.id, values


async def run_calibration(
    uow_factory: Callable[[], UnitOfWork], plan: Sequence[Scenario], seed: int
) -> list[Trial]:
    """Writes every scenario of ``plan`` as a campaign (into a database without calibration
    rows yet), then returns what ``compute_stats`` reports for each, in order."""
    rng = random.Random(seed)
    written: list[tuple[Scenario, int, dict[str, list[float]]]] = []
    async with uow_factory() as uow:
        members, branch_id = await _member_pool(uow, max(s.audience for s in plan))
        for index, scenario in enumerate(plan):
            campaign_id, values = await _write_campaign(
                uow, index, scenario, members, branch_id, rng
            )
            written.append((scenario, campaign_id, values))
        await uow.commit()
    now = BASE + timedelta(days=(len(plan) + 1) * (ATTRIBUTION_DAYS + 1))
    trials = []
    async with uow_factory() as uow:
        for scenario, campaign_id, values in written:
            stats = await compute_stats(uow, campaign_id, now)
            trials.append(Trial(scenario, stats, values))
    return trials


@dataclass(frozen=True, slots=True)
class Coverage:
    """How a method's 95% intervals did on a set of trials."""

    campaigns: int
    with_interval: int
    covered: int
    zero_effect: int
    zero_quiet: int  # zero-effect campaigns reported as "no detectable effect" or "too few"

    @property
    def coverage(self) -> float:
        return self.covered / self.with_interval if self.with_interval else math.nan

    @property
    def zero_quiet_rate(self) -> float:
        return self.zero_quiet / self.zero_effect if self.zero_effect else math.nan


def coverage(
    trials: Sequence[Trial], method: Callable[[Trial], Estimate] = lambda t: t.estimate
) -> Coverage:
    """Coverage of the true effect by ``method``'s intervals (by default: what /stats said)."""
    with_interval = covered = zero = quiet = 0
    for trial in trials:
        estimate = method(trial)
        reported = estimate.verdict is not Verdict.TOO_FEW
        if reported:
            with_interval += 1
            covered += estimate.low <= trial.true_effect <= estimate.high
        if trial.true_effect == 0:
            zero += 1
            quiet += estimate.verdict in (Verdict.NO_EFFECT, Verdict.TOO_FEW)
    return Coverage(len(trials), with_interval, covered, zero, quiet)
