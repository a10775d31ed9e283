"""Rules compiled to SQL select exactly the members worked out by hand (SQLite and PostgreSQL).

The shop is described in :mod:`tests.storage.segment_support`.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.bootstrap import App
from storage.models import Member
from storage.raw_session import session_of
from storage.segments import (
    SegmentEnv,
    SegmentRuleError,
    compile_rule,
    parse_rule,
    resolve_segment,
)
from tests.storage.segment_support import BANGKOK, build_shop

CASES = [
    # branches: by code, Thai or English name; voided sales and erased members never count
    ("branch = asoke", {"ann"}),
    ("branch in (asoke, sukhumvit)", {"ann", "bob"}),
    ("branch = เพชรบุรี", {"dan"}),
    ("branch = 'Phetchaburi'", {"dan"}),
    ("branch != asoke", {"bob", "cara", "dan"}),
    ("home_branch = asoke", {"ann", "dan"}),
    ("home_branch not in (asoke)", {"bob", "cara"}),
    # weekday and hour in shop time (dan's sale is Friday 23:00 UTC = Saturday 06:00 Bangkok)
    ("weekday = mon", {"ann"}),
    ("weekday = ส", {"bob", "dan"}),
    ("weekday in (6, sun)", {"bob", "dan"}),
    ("hour = 6", {"dan"}),
    ("hour >= 14 and hour < 16", {"ann"}),
    ("hour > 19", {"bob"}),
    # ordered weekdays end on Sunday (7); SQLite compares strftime text ('0' is Sunday there)
    ("weekday >= sat", {"bob", "dan"}),
    ("weekday < tue", {"ann"}),
    ("weekday = sun", set()),
    ("hour <= 6", {"dan"}),
    ("hour in (10, 20)", {"ann", "bob"}),
    # visits and spend over windows and all time
    ("visits_90d >= 2", {"ann"}),
    ("visits_90d = 1", {"bob"}),
    ("visits_90d = 0", {"cara", "dan"}),
    ("visits >= 3", {"ann"}),
    ("visits_365d >= 1", {"ann", "bob", "dan"}),
    ("spend_365d >= 5000", {"ann", "dan"}),
    ("spend_30d > 400", {"ann"}),
    ("spend <= 100", {"bob", "cara"}),
    ("avg_ticket >= 1000", {"ann", "dan"}),
    ("avg_ticket < 150", {"bob"}),
    # recency in shop days; never visited counts as endless
    ("last_visit_days <= 1", {"ann"}),
    ("last_visit_days = 3", {"bob"}),
    ("last_visit_days > 60", {"cara", "dan"}),
    ("days_since_join <= 30", {"bob"}),
    ("days_since_join >= 400", {"ann", "dan"}),
    # birthday and age on today's shop date
    ("birth_month = 3", {"ann", "dan"}),
    ("birth_month = current", {"ann", "dan"}),
    ("birth_month = มีนาคม", {"ann", "dan"}),
    ("birth_month in (jul, aug)", {"bob"}),
    # months compare as numbers on both databases (SQLite compares zero-padded month text)
    ("birth_month < 10", {"ann", "bob", "dan"}),
    ("birth_month >= 7", {"bob"}),
    ("birth_month > 3 and birth_month <= 12", {"bob"}),
    ("birth_month != 3", {"bob", "cara"}),  # cara gave no birthday: != is the opposite of =
    ("age >= 60", {"dan"}),
    ("age = 66", {"dan"}),
    ("age = 65", set()),
    ("age < 30", {"bob"}),
    ("gender = female", {"ann"}),
    ("gender != female", {"bob", "cara", "dan"}),
    ("gender = ชาย", {"bob"}),
    # tiers from 12-month spend (silver 3,000, gold 10,000)
    ("tier = gold", {"dan"}),
    ("tier = silver", {"ann"}),
    ("tier = member", {"bob", "cara"}),
    ("tier >= silver", {"ann", "dan"}),
    ("points >= 100", {"ann"}),
    ("tag = vip", {"ann"}),
    ("tag != vip", {"bob", "cara", "dan"}),
    ("channel = telegram", {"ann"}),
    ("channel = line", {"bob"}),
    ("language = en", {"bob"}),
    ("marketing = no", {"bob"}),
    ("marketing = yes", {"ann", "cara", "dan"}),
    ("coupon_share >= 50%", {"ann", "bob"}),
    ("coupon_share = 0", {"dan"}),
    ("coupon_share < 0.5", {"dan"}),
    ("category = tea", {"ann"}),
    ("category = 'milk tea'", {"bob"}),
    ("category in (snack, coffee)", {"ann"}),
    ("redeemed = 'summer 1-GET-1'", {"bob"}),
    ("clicked = 'Summer 1-get-1'", {"ann"}),
    ("segment = fan", {"ann", "dan"}),
    ("segment = lapsed", {"dan"}),
    ("segment != lapsed and visits >= 1", {"ann", "bob"}),
    # precedence: not > and > or, and parentheses
    ("gender = female or gender = male and marketing = no", {"ann", "bob"}),
    ("(gender = female or gender = male) and marketing = no", {"bob"}),
    ("not branch = asoke and marketing = yes", {"cara", "dan"}),
    ("not (branch = asoke or marketing = yes)", {"bob"}),
    ("NOT gender = female AND Marketing = YES", {"cara", "dan"}),
]


async def selected(app: App, text: str, **env_fields: object) -> set[str]:
    env = SegmentEnv(now=app.clock.now(), tz=BANGKOK, **env_fields)  # type: ignore[arg-type]
    query = select(Member.name).where(Member.id.in_(compile_rule(parse_rule(text), env)))
    async with app.uow() as uow:
        return {str(name) for name in (await session_of(uow).execute(query)).scalars()}


@pytest.mark.parametrize(("rule", "expected"), CASES, ids=[case[0] for case in CASES])
async def test_rule_selects_the_members_worked_out_by_hand(
    app: App, rule: str, expected: set[str]
) -> None:
    await build_shop(app)
    assert await selected(app, rule) == expected


async def test_campaign_fields_take_the_campaign_id(app: App) -> None:
    ids = await build_shop(app)
    assert await selected(app, f"clicked = {ids['campaign']}") == {"ann"}
    assert await selected(app, f"redeemed in ({ids['campaign']})") == {"bob"}


async def test_injection_attempt_in_a_value_matches_nothing_and_drops_nothing(app: App) -> None:
    await build_shop(app)
    assert await selected(app, 'branch = "x\'); drop table members; --"') == set()
    assert await selected(app, "category = \"%' or '1'='1\"") == set()
    assert await selected(app, "category = '%'") == set()  # a LIKE wildcard is a plain char
    async with app.uow() as uow:
        count = (await session_of(uow).execute(select(func.count()).select_from(Member))).scalar()
    assert count == 5


async def test_saved_segments_are_used_by_name(app: App) -> None:
    await build_shop(app)
    env = {"saved": {"Asoke_regulars": "branch = asoke and visits >= 2"}}
    assert await selected(app, "segment = asoke_regulars", **env) == {"ann"}


async def test_saved_segments_that_name_each_other_are_refused(app: App) -> None:
    await build_shop(app)
    env = {"saved": {"a": "segment = b", "b": "segment = a"}}
    with pytest.raises(SegmentRuleError) as raised:
        await selected(app, "segment = a", **env)
    assert raised.value.rule_key == "segment.recursive"


async def test_unknown_tier_names_the_word_with_a_suggestion(app: App) -> None:
    await build_shop(app)
    with pytest.raises(SegmentRuleError) as raised:
        await selected(app, "tier = gld")
    assert (raised.value.word, raised.value.suggestion) == ("gld", "gold")


async def test_resolve_takes_a_builtin_a_saved_name_or_an_inline_rule(app: App) -> None:
    await build_shop(app)
    env = SegmentEnv(now=app.clock.now(), tz=BANGKOK)
    async with app.uow() as uow:
        await uow.segments.add("vips", "tag = vip", "test", app.clock.now())
        found = {}
        for text in ("fan", "VIPS", "marketing = no"):
            rule, query = await resolve_segment(uow, text, env)
            names = select(Member.name).where(Member.id.in_(query))
            found[text] = (rule, set((await session_of(uow).execute(names)).scalars()))
    assert found == {
        "fan": ("spend_365d >= 5000", {"ann", "dan"}),
        "VIPS": ("tag = vip", {"ann"}),
        "marketing = no": ("marketing = no", {"bob"}),
    }


async def test_resolve_refuses_an_unknown_branch_with_a_suggestion(app: App) -> None:
    await build_shop(app)
    env = SegmentEnv(now=app.clock.now(), tz=BANGKOK)
    async with app.uow() as uow:
        with pytest.raises(SegmentRuleError) as raised:
            await resolve_segment(uow, "branch in (asoke, sukumvit)", env)
    error = raised.value
    assert (error.rule_key, error.word, error.position, error.suggestion) == (
        "segment.unknown_branch",
        "sukumvit",
        19,
        "sukhumvit",
    )
