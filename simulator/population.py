"""The simulated shop's people: hidden propensities, known to the simulator and never to the bot.

Members, their chat accounts, consents and past sales come from the seeded synthetic-shop
generator (:func:`storage.synthetic.generate_shop`); this module gives each of them what the
database cannot know — how often they drop in (by weekday and hour), what they spend (a
lognormal basket with a heavy tail: one shopper in twenty spends several times their usual),
how likely they are to press an offer, claim it, redeem it, block the bot, send ``/stop`` or
write to the shop — and the **true causal effect** of the offer on a member who received it.

The effect (:class:`Effect`) is the only difference between a recipient and a hold-out member:
with probability ``visit_prob`` a recipient makes one extra visit in the attribution window
(a negative value: they skip one visit they would have made), and every visit of a recipient
in the window spends ``extra_spend`` baht more. :meth:`Person.true_effect` is the expected
extra revenue of one recipient, so the simulator knows the uplift it should see.

Everything is drawn from one ``random.Random(seed)``: the same seed gives the same people.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.models import ChannelIdentity, Member, Sale

#: shop opening hours (shop time), [first, last] hour a visit can start in
OPEN_HOURS: Final = tuple(range(8, 21))
#: how busy each weekday is (Monday first), the same shape for everyone
WEEKDAY_WEIGHTS: Final = (0.8, 0.8, 0.9, 0.9, 1.2, 1.4, 1.3)
#: how busy each opening hour is (lunch and after work peak)
HOUR_WEIGHTS: Final = (0.4, 0.6, 0.8, 1.0, 1.6, 1.5, 1.0, 0.9, 1.0, 1.2, 1.4, 1.1, 0.6)


@dataclass(frozen=True, slots=True)
class Effect:
    """The true causal effect of receiving the offer (zero by default: a useless message)."""

    visit_prob: float = 0.0
    extra_spend: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class Person:
    """One member's hidden truth. ``weekly_visits`` is their base visit rate; a visit's hour
    follows :data:`WEEKDAY_WEIGHTS` × :data:`HOUR_WEIGHTS`; the basket is lognormal around
    ``median_spend`` with spread ``spend_sigma``."""

    member_id: int
    member_code: str
    channel: str
    user_id: str
    #: agreed to marketing and can be messaged when the simulation begins
    eligible: bool
    weekly_visits: float
    median_spend: float
    spend_sigma: float
    p_click: float
    p_claim: float
    p_redeem: float
    #: chance to block the bot after a promotion (and, for a few, at any time)
    p_block: float
    p_stop: float
    #: chance per day to write a message to the shop
    p_write: float
    #: blocked the bot long ago on Telegram without the bot hearing of it
    silently_blocked: bool
    #: the platform refuses the next message to this member (a broken chat)
    broken_chat: bool

    def hourly_visit_prob(self, weekday: int, hour: int) -> float:
        """Chance to visit in this hour of this weekday (shop time); 0 when the shop is shut."""
        if hour not in OPEN_HOURS:
            return 0.0
        weight = WEEKDAY_WEIGHTS[weekday] * HOUR_WEIGHTS[hour - OPEN_HOURS[0]]
        return min(1.0, self.weekly_visits * weight / _WEEK_WEIGHT)

    def basket(self, rng: random.Random) -> Decimal:
        """One visit's spend in baht (whole baht), heavy-tailed."""
        amount = rng.lognormvariate(math.log(self.median_spend), self.spend_sigma)
        if rng.random() < 0.05:  # the occasional office order or family treat
            amount *= rng.uniform(3.0, 8.0)
        return Decimal(max(20, round(amount)))

    def mean_basket(self) -> float:
        mean = self.median_spend * math.exp(self.spend_sigma**2 / 2)
        return mean * (0.95 + 0.05 * 5.5)

    def expected_visits(self, days: int) -> float:
        return self.weekly_visits * days / 7

    def true_effect(self, effect: Effect, days: int) -> float:
        """Expected extra revenue (baht) of this member over ``days`` if they receive it."""
        visits = self.expected_visits(days)
        extra = float(effect.extra_spend) * (visits + max(effect.visit_prob, 0.0))
        if effect.visit_prob >= 0:
            return extra + effect.visit_prob * self.mean_basket()
        had_one = 1 - math.exp(-visits)  # a skipped visit needs a visit to skip
        return extra + effect.visit_prob * had_one * self.mean_basket()


_WEEK_WEIGHT: Final = sum(WEEKDAY_WEIGHTS) * sum(HOUR_WEIGHTS)


def draw_person(
    rng: random.Random, member_id: int, member_code: str, channel: str, user_id: str, eligible: bool
) -> Person:
    """One member's propensities (see the module docstring for the shapes)."""
    telegram = channel == "telegram"
    return Person(
        member_id=member_id,
        member_code=member_code,
        channel=channel,
        user_id=user_id,
        eligible=eligible,
        weekly_visits=min(5.0, rng.lognormvariate(math.log(0.6), 0.8)),
        median_spend=rng.uniform(90, 220),
        spend_sigma=rng.uniform(0.3, 0.7),
        p_click=rng.betavariate(2, 5),
        p_claim=rng.uniform(0.5, 0.95),
        p_redeem=rng.uniform(0.3, 0.9),
        p_block=rng.choice((0.0, 0.0, 0.02, 0.08)),
        p_stop=rng.choice((0.0, 0.0, 0.01, 0.05)),
        p_write=rng.choice((0.0, 0.0, 0.0, 0.03)),
        silently_blocked=telegram and eligible and rng.random() < 0.15,
        broken_chat=eligible and rng.random() < 0.03,
    )


#: how far back a member's own sales set their habits (``habits_until``): long enough to
#: see someone who comes once in eight weeks a few times, short enough that a member who
#: stopped coming months ago has stopped in the simulation too
HABIT_WEEKS: Final = 26
#: the shortest stretch a rate is taken over: one visit by a member who joined last week is
#: not a weekly habit
MIN_HABIT_WEEKS: Final = 4


async def history_habits(engine: AsyncEngine, until: datetime) -> dict[int, tuple[float, float]]:
    """Each member's ``(weekly visits, mean basket in baht)`` from their own non-voided
    sales in the :data:`HABIT_WEEKS` before ``until`` (members with no sale there are left
    out). The rate is over the weeks since they joined, at least :data:`MIN_HABIT_WEEKS`."""
    since = until - timedelta(weeks=HABIT_WEEKS)
    async with engine.connect() as connection:
        rows = await connection.execute(
            select(Member.id, Member.joined_at, func.count(), func.sum(Sale.amount))
            .select_from(Sale)
            .join(Member, Member.id == Sale.member_id)
            .where(Sale.voided_at.is_(None), Sale.occurred_at >= since, Sale.occurred_at < until)
            .group_by(Member.id, Member.joined_at)
        )
        habits: dict[int, tuple[float, float]] = {}
        for member_id, joined_at, visits, total in rows:
            joined = max(joined_at, since)
            weeks = max((until - joined) / timedelta(weeks=1), MIN_HABIT_WEEKS)
            habits[member_id] = (min(5.0, visits / weeks), float(total) / visits)
    return habits


def continuing(person: Person, habit: tuple[float, float] | None) -> Person:
    """``person`` visiting and spending as their history says (``habit`` from
    :func:`history_habits`; no sale in it: they do not come)."""
    if habit is None:
        return replace(person, weekly_visits=0.0)
    rate, mean_basket = habit
    # the median that gives this mean with the person's spread and occasional big orders
    shape = math.exp(person.spend_sigma**2 / 2) * (0.95 + 0.05 * 5.5)
    return replace(person, weekly_visits=rate, median_spend=max(20.0, mean_basket / shape))


async def load_population(
    engine: AsyncEngine, seed: int, *, habits_until: datetime | None = None
) -> list[Person]:
    """A :class:`Person` for every member of the shop in ``engine`` (in member id order),
    with propensities drawn from ``random.Random(seed)``. ``eligible``: the member agreed to
    marketing and their chat account is reachable — read from what the generator wrote.

    With ``habits_until``, each member keeps coming as often and spending as much as their
    own sales before then (:func:`history_habits`), as regular customers do in a real shop,
    so the weeks before a simulated campaign predict its window; without it, visit rates and
    baskets are drawn afresh (a shop whose history the simulator did not write)."""
    habits = await history_habits(engine, habits_until) if habits_until is not None else None
    rng = random.Random(seed)
    async with engine.connect() as connection:
        rows = await connection.execute(
            select(
                Member.id,
                Member.member_code,
                Member.marketing_opt_in,
                ChannelIdentity.channel,
                ChannelIdentity.user_id,
                ChannelIdentity.reachable,
            )
            .join(ChannelIdentity, ChannelIdentity.member_id == Member.id)
            .order_by(Member.id)
        )
        people = []
        for member_id, code, opt_in, channel, user_id, reachable in rows:
            eligible = bool(opt_in) and bool(reachable)
            person = draw_person(rng, member_id, code, channel, user_id, eligible)
            if habits is not None:
                person = continuing(person, habits.get(member_id))
            people.append(person)
    return people
