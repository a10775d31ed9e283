"""The realistic mix of the ingest benchmarks: which update the ``n``-th request of a run is.

Every 20 requests: 5 ``/points``, 2 ``/card``, 4 main-menu button presses (``cmd:points``), 4
free texts to the inbox (members asking something), 4 sign-up steps and 1 staff ``/sale``.
Members are the benchmark's signed-up members (:mod:`bench.ingest_seed`), spread so that no
member always sends the same kind. Sign-up steps come from new people, each walking the whole
flow (``/start``, consent, marketing, name, phone, birthday, gender, home branch: 8 steps, the
last writes the member); :data:`LANES` people sign up side by side, so one person's next step
is sent ``LANES × 5`` = 80 requests after the previous one (twice the 40 in flight).
``/sale`` comes from the staff account (an owner: no daily cap) for a member by phone.

Each server under test has its own sign-up people (``people``), whose steps go on from run to
run, so the mix is in its steady state from a run's first update and nothing is a repeat.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from bench.ingest_seed import line_user, telegram_user

#: the 20-request pattern (the order spreads kinds evenly through the run)
PATTERN: Final = (
    "points",
    "text",
    "signup",
    "button",
    "points",
    "card",
    "text",
    "signup",
    "button",
    "points",
    "sale",
    "text",
    "signup",
    "button",
    "points",
    "card",
    "text",
    "signup",
    "button",
    "points",
)
SIGNUPS_PER_PATTERN: Final = PATTERN.count("signup")
LANES: Final = 16
#: the sign-up, one step per event: (kind, payload); "{phone}" is the person's own number
SIGNUP_STEPS: Final = (
    ("text", "/start"),
    ("button", "su:join"),
    ("button", "su:mkt:yes"),
    ("text", "Somchai"),
    ("text", "{phone}"),
    ("text", "1990-05-01"),
    ("button", "su:g:female"),
    ("button", "su:b:{branch}"),
)
QUESTIONS: Final = (
    "Are you open on Sunday?",
    "ร้านเปิดกี่โมงคะ",
    "Do you have the blue one in size M?",
    "ขอบคุณค่ะ",
)
#: the staff account's chat ids (seeded as an owner by :func:`bench.mix.seed_shop`)
STAFF_TELEGRAM: Final = 7_099_999
STAFF_LINE: Final = "U" + "f" * 32
TELEGRAM_PEOPLE: Final = 8_000_000_000
BRANCH_ID: Final = 1


def member_phone(n: int) -> str:
    """The phone :func:`bench.ingest_seed.seed_members` gives member ``n``."""
    return f"+6681{n:07d}"


@dataclass(frozen=True, slots=True)
class Step:
    """One update of the mix: who sends it and what (``kind``: text or button)."""

    what: str
    kind: str
    sender: int  # a member's number, or a sign-up person's, or -1 for the staff account
    payload: str


def signups_in(count: int) -> int:
    """How many of the first ``count`` updates of a run are sign-up steps."""
    whole, rest = divmod(count, len(PATTERN))
    return whole * SIGNUPS_PER_PATTERN + PATTERN[:rest].count("signup")


def step(n: int, users: int, people: int, signups_before: int = 0) -> Step:
    """The ``n``-th update of a run. Sign-up people are numbered from ``people``; the stream of
    sign-up steps goes on from ``signups_before`` (the steps earlier runs sent to the same
    server), so a person begun in one run finishes in the next."""
    what = PATTERN[n % len(PATTERN)]
    member = (n + 7 * (n // len(PATTERN))) % users
    if what == "points":
        return Step(what, "text", member, "/points")
    if what == "card":
        return Step(what, "text", member, "/card")
    if what == "button":
        return Step(what, "button", member, "cmd:points")
    if what == "text":
        return Step(what, "text", member, QUESTIONS[n % len(QUESTIONS)])
    if what == "sale":
        return Step(what, "text", -1, f"/sale {member_phone(member)} {120 + n % 400}")
    index = signups_before + signups_in(n)
    lane, turn = index % LANES, index // LANES
    person = people + lane + LANES * (turn // len(SIGNUP_STEPS))
    kind, payload = SIGNUP_STEPS[turn % len(SIGNUP_STEPS)]
    phone = f"09{person % 100_000_000:08d}"  # members of the seed have +6681…
    return Step("signup", kind, -2 - person, payload.format(phone=phone, branch=BRANCH_ID))


def telegram_id(sender: int) -> int:
    if sender == -1:
        return STAFF_TELEGRAM
    if sender < -1:
        return TELEGRAM_PEOPLE + (-2 - sender)
    return telegram_user(sender)


def line_id(sender: int) -> str:
    if sender == -1:
        return STAFF_LINE
    if sender < -1:
        return f"Ua{-2 - sender:031x}"
    return line_user(sender)
