"""The simulation loop: a synthetic shop, an owner's campaign, and simulated hours.

:func:`simulate` builds the shop with the seeded generator, gives its members hidden
propensities (:mod:`simulator.population`), has the owner save a segment and confirm a
campaign over the real chat, then moves the injected clock one hour at a time. Each hour:
the real :class:`~jobs.dispatcher.OutboxDispatcher` drains what is due, the messages the fakes
received are booked in the :class:`~simulator.ledger.Ledger` (and people decide whether to
press, block or ``/stop``), what people decided earlier happens now, visitors come to the
counter (the cashier types ``/redeem`` and ``/sale``), and at noon the win-back automation
runs (its real job function, as the scheduler would call it).

People act through a driver (:class:`simulator.world.World`): webhooks over HTTP into the real
web app (:func:`simulator.world.http_world`, what the exact-count tests use) or the bus called
in-process (:class:`simulator.inprocess.InProcessWorld`, for the demo and long CLI runs).
"""

from __future__ import annotations

import heapq
import itertools
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import select

from bot.bootstrap import App
from bot.core.clock import FrozenClock
from jobs.automations.winback import run_winback
from jobs.dispatcher import OutboxDispatcher
from shop.campaigns.offers import Offer
from shop.contact_policy import SETTINGS_KEY
from simulator.ledger import Ledger
from simulator.population import Effect, Person, load_population
from simulator.world import Outgoing, World
from storage.models import Branch, Campaign, CampaignMember, Member
from storage.raw_session import session_of
from storage.synthetic import generate_shop

OWNER: Final = "900"
CASHIER: Final = "901"
#: the win-back job runs at this shop hour each simulated day
JOB_HOUR: Final = 12
SEGMENT: Final = "everyone"
COUPON: Final = re.compile(r"\b([A-Z0-9]{4})-([A-Z0-9]{4})-([A-Z0-9]+)\b")
CAMPAIGN_ACTION: Final = re.compile(r"^cmp:(\d+)$")

#: (hours from now, sequence number, person, what) — the sequence keeps the heap total
Plan = tuple[datetime, int, Person, str]
Tick = Callable[[int, int], None]


@dataclass
class SimConfig:
    members: int = 300
    days: int = 10
    holdout_pct: int = 20
    attribution_days: int = 7
    effect: Effect = field(default_factory=Effect)
    seed: int = 7
    #: run the win-back automation daily (at :data:`JOB_HOUR`)
    winback: bool = True
    #: the owner's and the cashier's chat accounts (staff of the shop)
    staff_channel: str = "telegram"
    owner: str = OWNER
    cashier: str = CASHIER
    campaign_name: str = "Simulated offer"
    #: the segment the owner saves and sends to (default: every member), and its name
    segment_rule: str = "days_since_join >= 0"
    segment_name: str = SEGMENT
    #: branch code → the cashier who rings up sales there: a visit is rung up at the member's
    #: home branch (empty: every sale by ``cashier``)
    cashiers: dict[str, str] = field(default_factory=dict)
    #: with ``audience_only``, the other members still come to the counter at this share of
    #: their visit rate (their sales are the shop's, measured by nobody); 0: they do not
    others_visit_rate: float = 0.0
    #: simulate only the measured members of the campaign's snapshot (faster for a big shop;
    #: the ledger's hold-out then comes from the product, so it is no independent check)
    audience_only: bool = False


@dataclass
class SimResult:
    campaign_id: int
    people: list[Person]
    ledger: Ledger
    ended_at: datetime
    config: SimConfig


@dataclass
class _Sim:
    app: App
    world: World
    config: SimConfig
    people: list[Person]
    rng: random.Random
    ledger: Ledger = field(default_factory=Ledger)
    plans: list[Plan] = field(default_factory=list)
    coupons: dict[int, list[tuple[str, int]]] = field(default_factory=dict)
    #: member → (end of the treated window, campaign) once their campaign message arrived
    treated: dict[int, datetime] = field(default_factory=dict)
    skip_one: set[int] = field(default_factory=set)
    blocked: set[int] = field(default_factory=set)
    receipts: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    #: member → home branch code (read only when sales are rung up per branch)
    homes: dict[int, str] = field(default_factory=dict)
    order: itertools.count[int] = field(default_factory=itertools.count)

    @property
    def by_user(self) -> dict[tuple[str, str], Person]:
        return {(p.channel, p.user_id): p for p in self.people}

    def plan(self, at: datetime, person: Person, what: str) -> None:
        heapq.heappush(self.plans, (at, next(self.order), person, what))

    async def book(self, now: datetime, outgoing: list[Outgoing]) -> None:
        """Book campaign messages in the ledger; recipients decide what they will do."""
        people = self.by_user
        for out in outgoing:
            person = people.get((out.channel, out.user_id))
            ids = [int(m.group(1)) for a in out.actions if (m := CAMPAIGN_ACTION.match(a))]
            if person is None or not ids:
                continue
            campaign_id = ids[0]
            if campaign_id not in self.ledger.campaigns:
                await self._track_automation(campaign_id)
            outcome = (
                "sent" if out.status == 200 else "unreachable" if out.status == 403 else "failed"
            )
            self.ledger.message(campaign_id, person.member_id, now, outcome)
            if outcome == "sent":
                self._react(now, person, campaign_id)

    async def _track_automation(self, campaign_id: int) -> None:
        async with self.app.uow() as uow:
            campaign = await session_of(uow).get(Campaign, campaign_id)
            assert campaign is not None
            assert campaign.started_at is not None
            self.ledger.track(campaign_id, campaign.started_at, campaign.attribution_days)

    def _react(self, now: datetime, person: Person, campaign_id: int) -> None:
        rng, effect = self.rng, self.config.effect
        window = timedelta(days=self.config.attribution_days)
        if rng.random() < person.p_click:
            self.plan(now + timedelta(hours=rng.randint(1, 30)), person, f"press:{campaign_id}")
        if rng.random() < person.p_block:
            self.plan(now + timedelta(hours=rng.randint(1, 96)), person, "block")
        if rng.random() < person.p_stop:
            self.plan(now + timedelta(hours=rng.randint(1, 72)), person, "stop")
        if campaign_id != self.main_campaign:
            return
        self.treated[person.member_id] = now + window
        if effect.visit_prob > 0 and rng.random() < effect.visit_prob:
            hours = rng.randint(1, int(window.total_seconds() // 3600) - 1)
            self.plan(now + timedelta(hours=hours), person, "visit")
        elif effect.visit_prob < 0 and rng.random() < -effect.visit_prob:
            self.skip_one.add(person.member_id)

    main_campaign: int = 0

    async def act(self, now: datetime, person: Person, what: str) -> None:
        """One planned action of ``person``, now."""
        if what == "visit":
            await self.visit(now, person)
        elif person.member_id in self.blocked:
            return  # a person who blocked the bot presses nothing any more
        elif what == "block":
            self.blocked.add(person.member_id)
            self.ledger.events.append((person.member_id, "blocked", now))
            await self.world.block(person.channel, person.user_id)
        elif what == "stop":
            reply = await self.world.say(person.channel, person.user_id, "/stop")
            if reply:
                self.ledger.events.append((person.member_id, "stopped", now))
        elif what.startswith("press:"):
            await self._press(person, int(what.partition(":")[2]), now)

    async def _press(self, person: Person, campaign_id: int, now: datetime) -> None:
        track = self.ledger.campaigns[campaign_id]
        answer = await self.world.press(person.channel, person.user_id, f"cmp:{campaign_id}")
        track.clicked.add(person.member_id)
        found = COUPON.search(answer)
        if found and person.member_id not in track.claimed:
            track.claimed.add(person.member_id)
            code = "".join(found.groups())
            self.coupons.setdefault(person.member_id, []).append((code, campaign_id))

    async def visit(self, now: datetime, person: Person) -> None:
        """``person`` at the counter: maybe a coupon redeemed, then the sale rung up."""
        if person.member_id in self.skip_one and now < self.treated.get(person.member_id, now):
            self.skip_one.discard(person.member_id)
            return
        held = self.coupons.get(person.member_id)
        if held and self.rng.random() < person.p_redeem:
            code, campaign_id = held.pop(0)
            cashier = self._cashier(person)
            await self.world.say(self.config.staff_channel, cashier, f"/redeem {code}")
            self.ledger.campaigns[campaign_id].redemptions.append((person.member_id, now))
        amount = person.basket(self.rng)
        if now < self.treated.get(person.member_id, now):
            amount += self.config.effect.extra_spend
        receipt = f"SIM{next(self.receipts):06d}"
        sale = f"/sale {person.member_code} {amount} receipt={receipt}"
        await self.world.say(self.config.staff_channel, self._cashier(person), sale)
        self.ledger.visits[person.member_id].append((now, amount))

    def _cashier(self, person: Person) -> str:
        """The cashier at ``person``'s home branch (``cashier`` when none is configured)."""
        home = self.homes.get(person.member_id)
        return self.config.cashiers.get(home or "", self.config.cashier)


async def home_branches(app: App) -> dict[int, str]:
    """Every member's home branch code, by member id."""
    async with app.uow() as uow:
        rows = await session_of(uow).execute(
            select(Member.id, Branch.code).join(Branch, Branch.id == Member.home_branch_id)
        )
        return {int(member_id): str(code) for member_id, code in rows}


async def setup_shop(app: App, config: SimConfig) -> list[Person]:
    """The synthetic shop, its owner and cashier, no quiet hours; returns its people."""
    now = app.clock.now()
    await generate_shop(app.engine, members=config.members, months=4, seed=config.seed, now=now)
    async with app.uow() as uow:
        branch_id = await session_of(uow).scalar(select(Branch.id).where(Branch.code == "asoke"))
        staff = config.staff_channel
        await uow.staff.add(staff, config.owner, "Owner", "owner", None, now)
        await uow.staff.add(staff, config.cashier, "Cashier", "cashier", branch_id, now)
        # the shop is simulated hour by hour; quiet hours would only shift deliveries
        await uow.settings.put(SETTINGS_KEY, {"quiet_hours": ["00:00", "00:00"]}, now)
        await uow.commit()
    return await load_population(app.engine, config.seed)


async def launch(app: App, world: World, config: SimConfig) -> int:
    """The owner saves the segment, the campaign is drafted, and the owner confirms it."""
    owner = (config.staff_channel, config.owner)
    await world.say(*owner, f"/segment new {config.segment_name} {config.segment_rule}")
    offer = Offer(kind="free_item", value="Thai milk tea", title_en="Free Thai milk tea")
    async with app.uow() as uow:
        campaign = Campaign(
            name=config.campaign_name,
            segment_name=config.segment_name,
            rule=config.segment_rule,
            message="{name}, a free Thai milk tea is waiting for you",
            offer=offer.to_json(),
            holdout_pct=config.holdout_pct,
            attribution_days=config.attribution_days,
            status="draft",
            created_by=f"{config.staff_channel}:{config.owner}",
            created_at=app.clock.now(),
        )
        await uow.campaigns.add(campaign)
        await uow.commit()
        campaign_id = campaign.id
    await world.press(*owner, f"cmpa:send:{campaign_id}")
    return campaign_id


async def simulate(
    app: App, world: World, people: list[Person], config: SimConfig, tick: Tick | None = None
) -> SimResult:
    """Run the simulated days (see the module docstring); ``tick(done, total)`` per hour."""
    clock = app.clock
    if not isinstance(clock, FrozenClock):
        raise TypeError("the simulator moves time: bootstrap the app with a FrozenClock")
    sim = _Sim(app, world, config, people, random.Random(config.seed))
    if config.cashiers:
        sim.homes = await home_branches(app)
    visitors = [(person, 1.0) for person in people]
    start = clock.now()
    for person in people:  # what the platforms know and the bot does not
        if person.silently_blocked:
            world.refuse_always(person.channel, person.user_id)
        elif person.broken_chat and person.channel == "telegram":
            world.refuse_once(person.channel, person.user_id)
    sim.main_campaign = await launch(app, world, config)
    track = sim.ledger.track(sim.main_campaign, start, config.attribution_days)
    track.audience = {p.member_id for p in people if p.eligible}
    if config.audience_only:
        async with app.uow() as uow:
            snapshot = await session_of(uow).execute(
                select(CampaignMember.member_id, CampaignMember.excluded).where(
                    CampaignMember.campaign_id == sim.main_campaign
                )
            )
            rows = snapshot.all()
        # only the measured members: an excluded member's visits change no count
        track.audience = {m for m, excluded in rows if excluded is None}
        everyone, people = people, [p for p in people if p.member_id in track.audience]
        sim.people = people
        rate = config.others_visit_rate
        others = [(p, rate) for p in everyone if p.member_id not in track.audience]
        visitors = [(person, 1.0) for person in people] + (others if rate > 0 else [])
    dispatcher = OutboxDispatcher(app.uow, app.clock, world.channels)
    tz = app.settings.tz
    hours = config.days * 24
    for step in range(hours + 1):
        now = start + timedelta(hours=step)
        clock.set(now)
        await _drain(dispatcher)
        await sim.book(now, world.outgoing())
        while sim.plans and sim.plans[0][0] <= now:
            _, _, person, what = heapq.heappop(sim.plans)
            await sim.act(now, person, what)
        local = now.astimezone(tz)
        for person, share in visitors:
            chance = person.hourly_visit_prob(local.weekday(), local.hour) * share
            if sim.rng.random() < chance:
                await sim.visit(now, person)
        if local.hour == JOB_HOUR and config.winback and step > 0:
            await run_winback(app)
        if tick is not None:
            tick(step, hours)
    await _drain(dispatcher)
    await sim.book(app.clock.now(), world.outgoing())
    return SimResult(sim.main_campaign, people, sim.ledger, app.clock.now(), config)


async def _drain(dispatcher: OutboxDispatcher) -> None:
    for _ in range(20):
        result = await dispatcher.drain_once()
        if not (result.sent + result.failed + result.unreachable + result.retrying):
            return
