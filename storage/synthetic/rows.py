"""Pure, seeded generation of the synthetic shop's rows (no database here).

One :class:`MemberRows` per member, produced lazily, so a caller can stream a million members in
bounded memory. Everything random comes from the one ``random.Random`` passed in, consumed in
a fixed order: the same seed gives the same shop. Patterns are computed in shop time
(Asia/Bangkok) and stored in UTC.
"""

from __future__ import annotations

import bisect
import itertools
import math
import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, Final
from zoneinfo import ZoneInfo

from storage.repositories.members import CODE_ALPHABET, CODE_LENGTH
from storage.synthetic.names import (
    BRANCHES,
    DAY_WEIGHTS,
    FEMALE_FIRST_NAMES,
    FEMALE_NICKNAMES,
    HOME_BRANCH_WEIGHTS,
    MALE_FIRST_NAMES,
    MALE_NICKNAMES,
    MENU,
    MENU_WEIGHTS,
    SURNAMES,
    WEEKDAY_HOURS,
    WEEKEND_HOURS,
)

SHOP_TZ: Final = ZoneInfo("Asia/Bangkok")
BAHT_PER_POINT: Final = 25
WELCOME_POINTS: Final = 50
CONSENT_WORDING: Final = "v1"
LAPSED_AFTER: Final = timedelta(days=60)
LAPSED_SHARE: Final = 0.15
NEVER_BOUGHT_SHARE: Final = 0.05
DEAL_SEEKER_SHARE: Final = 0.12

Row = dict[str, Any]


def _cumulative(weights: Mapping[Any, float]) -> tuple[list[Any], list[float]]:
    return list(weights), list(itertools.accumulate(weights.values()))


_WEEKDAY = _cumulative(WEEKDAY_HOURS)
_WEEKEND = _cumulative(WEEKEND_HOURS)
_MENU = _cumulative(MENU_WEIGHTS)
_HOME = list(itertools.accumulate(HOME_BRANCH_WEIGHTS))


@dataclass
class MemberRows:
    """Everything one member brings: rows for each table, in foreign-key order."""

    member: Row
    identity: Row
    consents: list[Row] = field(default_factory=list)
    points: list[Row] = field(default_factory=list)
    sales: list[Row] = field(default_factory=list)
    sale_points: list[Row] = field(default_factory=list)
    lapsed: bool = False


def member_code(member_id: int) -> str:
    """A unique code per id: an affine bijection on the code space, so no lookups are needed."""
    space = len(CODE_ALPHABET) ** CODE_LENGTH
    number = (member_id * 2_654_435_761 + 918_273_645) % space  # multiplier coprime with 31
    chars = []
    for _ in range(CODE_LENGTH):
        number, digit = divmod(number, len(CODE_ALPHABET))
        chars.append(CODE_ALPHABET[digit])
    return "".join(chars)


def phone(member_id: int, prefix: str) -> str:
    """A unique Thai mobile number per id (the 8 digits after the prefix are a bijection)."""
    digits = (member_id * 48_271 + 12_345_678) % 100_000_000  # 48271 is coprime with 10**8
    return f"+66{prefix}{digits:08d}"


def _pick(rng: random.Random, table: tuple[list[Any], list[float]]) -> Any:
    values, cumulative = table
    return values[bisect.bisect_right(cumulative, rng.random() * cumulative[-1])]


def _ticket(rng: random.Random) -> tuple[Decimal, str]:
    """A tea-shop ticket: 1–5 items, usually 45–350 THB, with its categories."""
    roll = rng.random()
    items = 1 if roll < 0.55 else 2 if roll < 0.85 else 3 if roll < 0.95 else rng.randint(4, 5)
    total = 0
    categories: set[str] = set()
    for _ in range(items):
        category = _pick(rng, _MENU)
        categories.add(category)
        total += rng.choice(MENU[category])
    return Decimal(total), ",".join(sorted(categories))


def _visit_time(rng: random.Random, day: date) -> datetime:
    hours = _WEEKDAY if day.weekday() < 5 else _WEEKEND
    hour = _pick(rng, hours)
    minute, second = rng.randrange(60), rng.randrange(60)
    local = datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=SHOP_TZ)
    return local.astimezone(UTC)


def _visits(
    rng: random.Random,
    start: datetime,
    stop: datetime,
    per_week: float,
    day_weights: tuple[float, ...],
) -> Iterator[datetime]:
    """A Poisson process of visit days thinned by the home branch's weekday weights."""
    top = max(day_weights)
    rate_per_day = per_week / 7 * top
    moment = start
    while True:
        moment += timedelta(days=rng.expovariate(rate_per_day))
        if moment >= stop:
            return
        day = moment.astimezone(SHOP_TZ).date()
        if rng.random() * top > day_weights[day.weekday()]:
            continue
        visit = _visit_time(rng, day)
        if start < visit < stop:
            yield visit


def _person(rng: random.Random) -> tuple[str, str | None, str, str]:
    """(name, gender, display name, locale)."""
    female = rng.random() < 0.55
    first = rng.choice(FEMALE_FIRST_NAMES if female else MALE_FIRST_NAMES)
    surname = rng.choice(SURNAMES)
    nickname = rng.choice(FEMALE_NICKNAMES if female else MALE_NICKNAMES)
    roll = rng.random()
    if roll < 0.8:
        name, display = f"{first} {surname}", first
    else:
        name, display = f"{nickname} {surname}", nickname
    gender_roll = rng.random()
    gender: str | None = "female" if female else "male"
    if gender_roll < 0.03:
        gender = "other"
    elif gender_roll < 0.12:
        gender = None  # skipped the question
    locale = "en" if rng.random() < 0.08 else "th"
    return name, gender, display, locale


def _birthday(rng: random.Random, today: date) -> date:
    age = min(70, max(17, round(rng.gauss(31, 10))))  # 17..70 → ages 16–70 on any day
    return date(today.year - age, 1, 1) + timedelta(days=rng.randrange(365))


def generate_members(
    rng: random.Random,
    *,
    count: int,
    months: int,
    now: datetime,
    branch_ids: Mapping[str, int],
    first_member_id: int = 1,
    first_sale_id: int = 1,
    visit_scale: float = 1.0,
) -> Iterator[MemberRows]:
    """Yield ``count`` members with their identities, consents, points and sales, lazily.
    ``visit_scale`` multiplies every member's visit rate (1.0: about 4.5 sales a member in
    six months)."""
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    period = timedelta(days=round(months * 30.44))
    start = now - period
    today = now.astimezone(SHOP_TZ).date()
    codes = [code for code, _, _ in BRANCHES]
    sale_id = first_sale_id
    for member_id in range(first_member_id, first_member_id + count):
        home = codes[bisect.bisect_right(_HOME, rng.random() * _HOME[-1])]
        lapsed = rng.random() < LAPSED_SHARE
        never_bought = not lapsed and rng.random() < NEVER_BOUGHT_SHARE
        last_allowed = now - LAPSED_AFTER - timedelta(days=1)
        if lapsed:  # joined before the lapse window and stopped coming 60+ days ago
            joined = last_allowed - timedelta(days=15 + rng.random() * (period.days + 45))
        else:
            joined = start + (period - timedelta(hours=1)) * rng.random()
        # people join at the counter, so at an hour when the shop is open
        at_counter = _visit_time(rng, joined.astimezone(SHOP_TZ).date())
        joined = at_counter if at_counter < now else joined
        stop = joined + (last_allowed - joined) * rng.random() if lapsed else now
        name, gender, display, locale = _person(rng)
        # Heavy tail: median about one visit in eight weeks, a few fans several times a week.
        per_week = min(5.0, rng.lognormvariate(math.log(0.12), 1.3)) * visit_scale
        deal_seeker = rng.random() < DEAL_SEEKER_SHARE
        opt_in = rng.random() < 0.75
        on_line = rng.random() < 0.7
        prefix = rng.choices(("8", "9", "6"), (45, 40, 15))[0]

        times: list[datetime] = []
        if not never_bought:
            times.append(joined)  # most people join at the counter, buying something
            times.extend(_visits(rng, joined, stop, per_week, DAY_WEIGHTS[home]))
            if not lapsed and times[-1] < now - LAPSED_AFTER:
                # an active regular: one recent visit so "lapsed" stays the 15% chosen above
                recent = (now - LAPSED_AFTER + timedelta(hours=1)).astimezone(SHOP_TZ).date()
                visit = _visit_time(rng, recent + timedelta(days=rng.randrange(58)))
                if visit < now:
                    times.append(visit)

        rows = MemberRows(
            member={
                "id": member_id,
                "member_code": member_code(member_id),
                "name": name,
                "phone": phone(member_id, prefix),
                "birthday": _birthday(rng, today),
                "gender": gender,
                "home_branch_id": branch_ids[home],
                "locale": locale,
                "joined_at": joined,
                "referred_by_code": None,
                "signup_source": f"branch:{home}" if rng.random() < 0.4 else None,
                "marketing_opt_in": opt_in,
                "erased_at": None,
            },
            identity={
                "channel": "line" if on_line else "telegram",
                "user_id": f"U{rng.getrandbits(128):032x}"
                if on_line
                else str(1_000_000_000 + (member_id * 7_919) % 4_000_000_000),
                "member_id": member_id,
                "display_name": display,
                "language_code": locale,
                "reachable": rng.random() > 0.03,
                "first_seen_at": joined,
                "last_seen_at": max(times) if times else joined,
            },
            lapsed=lapsed,
        )
        channel = rows.identity["channel"]
        for purpose, granted in (("membership", True), ("marketing", opt_in)):
            rows.consents.append(
                {
                    "member_id": member_id,
                    "purpose": purpose,
                    "granted": granted,
                    "wording_version": CONSENT_WORDING,
                    "channel": channel,
                    "recorded_at": joined,
                }
            )
        rows.points.append(_points(member_id, WELCOME_POINTS, "welcome", joined))
        coupon_rate = 0.6 if deal_seeker else 0.04
        for occurred in sorted(times):
            branch = home if rng.random() < 0.8 else rng.choice(codes)
            amount, categories = _ticket(rng)
            rows.sales.append(
                {
                    "id": sale_id,
                    "receipt_no": f"SYN{sale_id:010d}",
                    "member_id": member_id,
                    "branch_id": branch_ids[branch],
                    "amount": amount,
                    "occurred_at": occurred,
                    "categories": categories,
                    "used_coupon": rng.random() < coupon_rate,
                    "staff_id": None,
                    "voided_at": None,
                }
            )
            earned = int(amount // BAHT_PER_POINT)
            rows.sale_points.append(_points(member_id, earned, "sale", occurred, sale_id))
            sale_id += 1
        yield rows


def _points(
    member_id: int, delta: int, reason: str, moment: datetime, sale_id: int | None = None
) -> Row:
    return {
        "member_id": member_id,
        "delta": delta,
        "reason": reason,
        "sale_id": sale_id,
        "note": None,
        "earned_at": moment,
        "created_at": moment,
    }
