"""Segments, lifecycle groups and the reports checked against answers worked out here from the
rows this test writes: sales exactly at Bangkok midnight and at UTC midnight, a closed branch,
a Thai-named branch, a 29 February birthday, a member who joined today and an erased member.

Now is Tuesday 2026-03-03 14:30 in Bangkok (the ``clock`` fixture).
"""

from __future__ import annotations

import contextlib
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import update

from bot.bootstrap import App
from storage.console_reports import hours_of_week, sales_by_day
from storage.models import Branch, Member, Sale
from storage.raw_session import session_of
from storage.reports import shop_report
from storage.segments import SegmentEnv, SegmentRuleError
from tests.storage.segment_support import BANGKOK, build_shop, shop_time
from tests.storage.test_segment_compiler import selected
from tests.unit.staff_support import ensure_branches, staff_chat

#: member → (branch, moment, amount); "gone" is erased before the test looks
SALES = {
    "mid": ("asoke", shop_time(2026, 3, 3, 0, 0), 100),  # Bangkok midnight: Tuesday 00:00
    "utc": ("dindaeng", datetime(2026, 3, 2, 0, 0, tzinfo=UTC), 200),  # Monday 07:00 Bangkok
    "late": ("ratchada", shop_time(2026, 3, 1, 23, 59, 59), 300),  # Sunday 23:59:59, closed
    "gone": ("asoke", shop_time(2026, 3, 2, 0, 0), 50),
}


async def _shop(app: App) -> None:
    branches = await ensure_branches(app, ("asoke", "dindaeng", "ratchada"))
    now = app.clock.now()
    async with app.uow() as uow:
        s = session_of(uow)
        await s.execute(update(Branch).where(Branch.code == "ratchada").values(active=False))
        members = {}
        for name in ("mid", "utc", "late", "leap", "gone"):
            members[name] = await uow.members.add(
                Member(
                    name=name,
                    locale="th",
                    marketing_opt_in=True,
                    joined_at=now if name == "leap" else now - timedelta(days=100),
                    birthday=date(2000, 2, 29) if name == "leap" else None,
                    erased_at=now if name == "gone" else None,
                )
            )
        for i, (name, (branch, at, amount)) in enumerate(SALES.items()):
            s.add(
                Sale(
                    receipt_no=f"R{i}",
                    member_id=members[name].id,
                    branch_id=branches[branch],
                    amount=Decimal(amount),
                    occurred_at=at,
                )
            )
        await uow.commit()


def _expected(rule: str, now: datetime) -> set[str]:
    """The answer computed from SALES in plain Python (shop time via zoneinfo)."""
    field, _, value = rule.partition(" = ")
    today = now.astimezone(BANGKOK).date()
    live = {name: row for name, row in SALES.items() if name != "gone"}
    local = {name: at.astimezone(BANGKOK) for name, (_, at, _) in live.items()}
    if field == "weekday":
        return {n for n, t in local.items() if t.isoweekday() == int(value)}
    if field == "hour":
        return {n for n, t in local.items() if t.hour == int(value)}
    if field == "last_visit_days":
        return {n for n, t in local.items() if (today - t.date()).days == int(value)}
    raise AssertionError(rule)


RULES = [
    *(f"weekday = {d}" for d in range(1, 8)),
    *(f"hour = {h}" for h in (0, 7, 17, 23)),
    *(f"last_visit_days = {d}" for d in range(4)),
]


@pytest.mark.parametrize("rule", RULES)
async def test_shop_time_fields_match_zoneinfo_at_midnights(app: App, rule: str) -> None:
    await _shop(app)
    assert await selected(app, rule) == _expected(rule, app.clock.now())


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ("branch = ratchada", {"late"}),  # a closed branch keeps its history
        ("branch = ดินแดง", {"utc"}),
        ("branch = 'Din Daeng'", {"utc"}),
        ("branch = asoke", {"mid"}),  # the erased member's Asoke sale selects nobody
        ("birth_month = feb", {"leap"}),
        ("age = 26", {"leap"}),
        ("days_since_join = 0", {"leap"}),
        ("segment = new", {"leap"}),
        ("visits = 0", {"leap"}),
    ],
)
async def test_rules_select_what_the_rows_say(app: App, rule: str, expected: set[str]) -> None:
    await _shop(app)
    assert await selected(app, rule) == expected


async def test_report_and_console_agree_with_the_rows(app: App) -> None:
    await _shop(app)
    now = app.clock.now()
    value = Decimal(1)
    async with app.uow() as uow:
        report = await shop_report(uow, SegmentEnv(now, BANGKOK), value, (("m", Decimal(0)),))
        days = await sales_by_day(uow, now, BANGKOK, 7, None)
        hours = await hours_of_week(uow, now, BANGKOK, 7, None)
    # revenue is the shop's (the erased member's sale happened); people counts are live only
    assert (report.members, report.new_members, report.active_members) == (4, 1, 3)
    assert (report.sales_last_30d, report.revenue_last_30d) == (4, Decimal("650.00"))
    by_weekday = [Decimal(0)] * 7
    by_hour = [Decimal(0)] * 24
    for _, at, amount in SALES.values():
        local = at.astimezone(BANGKOK)
        by_weekday[local.isoweekday() - 1] += amount
        by_hour[local.hour] += amount
    assert report.revenue_by_weekday == by_weekday
    assert report.revenue_by_hour == by_hour
    per_day = {(b.branch.code, d.day): d.revenue for b in days for d in b.days if d.sales}
    assert per_day == {
        (branch, at.astimezone(BANGKOK).date()): Decimal(amount)
        for branch, at, amount in SALES.values()
        if branch != "asoke"
    } | {("asoke", date(2026, 3, 2)): Decimal(50), ("asoke", date(2026, 3, 3)): Decimal(100)}
    cells = {
        (h.branch.code, day + 1, hour)
        for h in hours
        for day, row in enumerate(h.cells)
        for hour, count in enumerate(row)
        if count
    }
    assert cells == {
        (branch, at.astimezone(BANGKOK).isoweekday(), at.astimezone(BANGKOK).hour)
        for branch, at, _ in SALES.values()
    }


@pytest.mark.parametrize(
    "rule", ["clicked = 99999999999999999999999", "redeemed in (9223372036854775808)"]
)
async def test_a_huge_campaign_id_is_a_rule_error_or_no_one(app: App, rule: str) -> None:
    await build_shop(app)
    with contextlib.suppress(SegmentRuleError):
        assert await selected(app, rule) == set()


async def test_segment_new_with_a_huge_campaign_id_gets_a_clear_answer(app: App) -> None:
    await build_shop(app)
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    replies = await owner.say("/segment new big clicked = 99999999999999999999999")
    assert "something went wrong" not in replies[0].text.casefold()


@pytest.mark.parametrize(
    ("thai", "plain"), [("visits >= ๒", "visits >= 2"), ("age > ๖๐", "age > 60")]
)
async def test_thai_digits_in_a_rule_mean_their_number(app: App, thai: str, plain: str) -> None:
    await build_shop(app)
    assert await selected(app, thai) == await selected(app, plain)


async def test_and_or_not_are_set_algebra_with_not_before_and_before_or(app: App) -> None:
    """Each compound rule selects what plain set operations on its parts' members give."""
    await build_shop(app)
    everyone = await selected(app, "visits >= 0")
    a = await selected(app, "branch = asoke")
    s = await selected(app, "branch = sukhumvit")
    f = await selected(app, "gender = female")
    n = await selected(app, "marketing = no")
    cases = {
        "branch = asoke or branch = sukhumvit and not branch = asoke": a | (s & (everyone - a)),
        "not gender = female or marketing = no": (everyone - f) | n,
        "gender = female and branch = asoke or marketing = no": (f & a) | n,
        "not (gender = female and branch = asoke) and not marketing = no": (everyone - (f & a)) - n,
        "not not branch = asoke": a,
        "branch not in (asoke)": everyone - a,
        "(((branch = asoke)))": a,
    }
    for rule, expected in cases.items():
        assert await selected(app, rule) == expected, rule
