"""The simulator's own record of what truly happened, and the counts ``/stats`` should show.

The ledger is written from the simulator's side only: campaign messages as the platform fakes
saw them (delivered, refused as blocked, refused otherwise), button presses and the coupons
they produced, the cashier's sales and redemptions, blocks and ``/stop``. It never reads the
bot's database: who was a recipient is whoever the platform saw a message of that campaign
for; the hold-out is the rest of the audience the simulator chose.

:meth:`Ledger.expected` applies the measurement rules ``/stats`` promises (see
:mod:`shop.campaigns.stats`): sales in each member's attribution window (from the start,
or from the automation's message, for ``attribution_days``, before ``now``); blocks and
``/stop`` within 48 hours after the campaign reached the member (the hold-out: after the
start), unless another campaign reached them in between.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Final

BLOCK_WINDOW: Final = timedelta(hours=48)


@dataclass(frozen=True, slots=True)
class Truth:
    """Expected counts of one group, in the shape of ``shop.campaigns.stats.GroupStats``."""

    measured: int = 0
    sent: int = 0
    failed: int = 0
    unreachable: int = 0
    clicked: int = 0
    claimed: int = 0
    redeemed: int = 0
    converters: int = 0
    visits: int = 0
    revenue: Decimal = Decimal("0.00")
    blocked: int = 0
    stopped: int = 0


@dataclass
class CampaignTrack:
    """What the simulator knows of one campaign. ``audience``: for an owner's campaign, every
    member it could reach (None for an automation: its hold-out is not visible from outside)."""

    campaign_id: int
    started_at: datetime
    attribution_days: int
    audience: set[int] | None = None
    #: member → (when, outcome) of this campaign's message: sent / failed / unreachable
    messages: dict[int, tuple[datetime, str]] = field(default_factory=dict)
    clicked: set[int] = field(default_factory=set)
    claimed: set[int] = field(default_factory=set)
    #: (member, when) of every coupon of this campaign redeemed at the counter
    redemptions: list[tuple[int, datetime]] = field(default_factory=list)


@dataclass
class Ledger:
    campaigns: dict[int, CampaignTrack] = field(default_factory=dict)
    #: member → [(when, baht)] of every sale the cashier rang up
    visits: dict[int, list[tuple[datetime, Decimal]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    #: (member, kind, when) of every block and /stop (kind: blocked / stopped)
    events: list[tuple[int, str, datetime]] = field(default_factory=list)

    def track(self, campaign_id: int, started_at: datetime, days: int) -> CampaignTrack:
        if campaign_id not in self.campaigns:
            self.campaigns[campaign_id] = CampaignTrack(campaign_id, started_at, days)
        return self.campaigns[campaign_id]

    def message(self, campaign_id: int, member_id: int, when: datetime, outcome: str) -> None:
        """A campaign message reached the platform; a refusal as blocked is also a block the
        bot learns of at that moment (the product records it as one)."""
        track = self.campaigns[campaign_id]
        track.messages.setdefault(member_id, (when, outcome))
        if outcome == "unreachable":
            self.events.append((member_id, "blocked", when))

    def reached(self, member_id: int) -> list[tuple[datetime, int]]:
        """(when, campaign) of every campaign message delivered to ``member_id``."""
        return sorted(
            (track.messages[member_id][0], track.campaign_id)
            for track in self.campaigns.values()
            if track.messages.get(member_id, (None, ""))[1] == "sent"
        )

    def expected(self, campaign_id: int, now: datetime) -> tuple[Truth, Truth | None]:
        """(recipients, hold-out) as ``/stats`` must report them at ``now``; the hold-out is
        None when the simulator cannot know it (automations)."""
        track = self.campaigns[campaign_id]
        recipients = set(track.messages)
        holdout = None
        if track.audience is not None:
            holdout = self._group(track, track.audience - recipients, now, recipient=False)
        return self._group(track, recipients, now, recipient=True), holdout

    def _group(
        self, track: CampaignTrack, members: set[int], now: datetime, *, recipient: bool
    ) -> Truth:
        outcomes: dict[str, int] = defaultdict(int)
        converters = visits = redeemed = 0
        revenue = Decimal(0)
        blamed: set[tuple[int, str]] = set()
        redeemed_at: dict[int, list[datetime]] = defaultdict(list)
        for who, at in track.redemptions:
            redeemed_at[who].append(at)
        for member in members:
            since = track.messages[member][0] if recipient else track.started_at
            if recipient:
                outcomes[track.messages[member][1]] += 1
            window_start = since if track.audience is None else track.started_at
            until = min(window_start + timedelta(days=track.attribution_days), now)
            mine = [b for at, b in self.visits.get(member, []) if window_start <= at < until]
            converters += bool(mine)
            visits += len(mine)
            revenue += sum(mine, Decimal(0))
            # /stats counts as the campaign's a coupon redeemed in the member's window only
            window_end = window_start + timedelta(days=track.attribution_days)
            redeemed += sum(window_start <= at < window_end for at in redeemed_at[member])
            if recipient and track.messages[member][1] != "sent":
                continue
            blamed |= self._blamed(track.campaign_id, member, since, now)
        return Truth(
            measured=len(members),
            sent=outcomes["sent"],
            failed=outcomes["failed"],
            unreachable=outcomes["unreachable"],
            clicked=len(track.clicked & members),
            claimed=len(track.claimed & members),
            redeemed=redeemed if recipient else 0,
            converters=converters,
            visits=visits,
            revenue=revenue.quantize(Decimal("0.01")),
            blocked=sum(1 for _, kind in blamed if kind == "blocked"),
            stopped=sum(1 for _, kind in blamed if kind == "stopped"),
        )

    def _blamed(
        self, campaign_id: int, member: int, reached: datetime, now: datetime
    ) -> set[tuple[int, str]]:
        later = [at for at, other in self.reached(member) if other != campaign_id and at > reached]
        out: set[tuple[int, str]] = set()
        for who, kind, when in self.events:
            if who != member or not reached <= when <= now or when - reached > BLOCK_WINDOW:
                continue
            if any(at <= when for at in later):
                continue  # a later campaign reached them first: it takes the blame
            out.add((member, kind))
        return out
