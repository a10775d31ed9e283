"""A year on: the tier a member holds between a sale leaving the 12-month window and the next
monthly review. The review promises that downgrades happen only at the review, with a notice
("You are now Silver..."); until then the member holds Gold (``Member.tier``, which segments and
campaigns target). What the member and the cashier are shown must be that tier, not one the
review has not decided yet. Driven through /sale at the counter, the tier job ticked by the
scheduler's own entry on the frozen clock, and the member's /points."""

from __future__ import annotations

from sqlalchemy import select

from bot.bootstrap import App
from bot.core.clock import FrozenClock
from jobs.scheduler import JOBS, tick
from shop.campaigns.launch import segment_env
from shop.contact_policy import ContactPolicy, eligibility
from shop.loyalty import LoyaltyRules, add_months
from storage.models import Member, PointsEntry, Sale
from storage.raw_session import session_of
from storage.segments import compile_rule, parse_rule
from tests.chat import Chat
from tests.domain.automation_support import bangkok, outbox_for
from tests.unit.staff_support import ensure_branch, make_member, staff_chat
from wording.loyalty import tier_name

TIERS = [job for job in JOBS if job.id == "automations.tiers"]


async def _gold_a_year_ago(app: App, clock: FrozenClock) -> tuple[int, Chat]:
    """Ploy reached Gold (10,000 in 12 months) in spring 2026 and bought nothing since."""
    await ensure_branch(app, "asoke")
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    clock.set(bangkok(2026, 2, 20, 10))
    ploy = await make_member(app, "Ploy", "0811111111", user_id="m1", locale="en")
    for moment, amount, receipt in (
        (bangkok(2026, 2, 20, 10), "1000", "R1"),  # leaves the window on 20 Feb 2027
        (bangkok(2026, 3, 15, 10), "2000", "R2"),
        (bangkok(2026, 4, 10, 10), "7000", "R3"),
    ):
        clock.set(moment)
        await owner.say(f"/sale 0811111111 {amount} receipt={receipt}")
    clock.set(bangkok(2026, 5, 1, 9, 35))
    await tick(app, TIERS)
    async with app.uow() as uow:
        member = await uow.members.get(ploy.id)
        assert member is not None
        assert member.tier == "gold"
    return ploy.id, owner


async def test_the_review_downgrades_at_the_month_after_a_sale_left_the_window(
    app: App, clock: FrozenClock
) -> None:
    member_id, _ = await _gold_a_year_ago(app, clock)
    clock.set(bangkok(2027, 3, 1, 9, 35))
    assert await tick(app, TIERS) == ["automations.tiers"]
    async with app.uow() as uow:
        member = await uow.members.get(member_id)
        assert member is not None
        assert member.tier == "silver"
    assert len(await outbox_for(app, member_id, "tier:")) == 1


async def test_points_between_the_window_and_the_review_show_the_tier_held(
    app: App, clock: FrozenClock
) -> None:
    """25 Feb 2027: R1 left the window five days ago, the review of 1 March has not run. Ploy
    still holds Gold and has been told nothing; /points must not already say Silver."""
    await _gold_a_year_ago(app, clock)
    clock.set(bangkok(2027, 2, 25, 12))
    text = (await Chat(app, user_id="m1", language_code="en").say("/points"))[0].text
    assert "Tier: Gold" in text, text


async def test_a_sale_before_the_review_earns_the_multiplier_of_the_tier_held(
    app: App, clock: FrozenClock
) -> None:
    member_id, owner = await _gold_a_year_ago(app, clock)
    clock.set(bangkok(2027, 2, 25, 12))
    await owner.say("/sale 0811111111 500 receipt=R9")
    async with app.uow() as uow:
        earned = await session_of(uow).scalar(
            select(PointsEntry.delta)
            .join(Sale, Sale.id == PointsEntry.sale_id)
            .where(Sale.receipt_no == "R9", PointsEntry.member_id == member_id)
        )
    assert earned == 30  # 500 / 25 = 20 points, × 1.5 for Gold (× 1.25 would be Silver's 25)


async def test_everything_that_shows_or_counts_the_tier_says_gold_until_the_review(
    app: App, clock: FrozenClock
) -> None:
    """In the same gap the card, the cashier's /customer, the segment ``tier = gold``, /report's
    tier counts and a campaign's ``{tier}`` all say Gold; after the review all say Silver."""
    member_id, owner = await _gold_a_year_ago(app, clock)
    member = Chat(app, user_id="m1", language_code="en")

    async def seen(tier: str) -> None:
        card = "\n".join(reply.text for reply in await member.say("/card"))
        assert tier in card, card
        customer = (await owner.say("/customer 0811111111"))[0].text
        assert tier in customer, customer
        report = "\n".join(reply.text for reply in await owner.say("/report"))
        assert f"{tier} 1" in report, report
        async with app.uow() as uow:
            env = await segment_env(uow, clock.now(), app.settings.tz)
            rule = f"tier = {tier.lower()}"
            found = select(Member.id).where(Member.id.in_(compile_rule(parse_rule(rule), env)))
            assert list((await session_of(uow).execute(found)).scalars()) == [member_id]
            [row] = await uow.audiences.rows(
                eligibility(env, uow.audiences.members([member_id]), policy=ContactPolicy()),
                spend_since=add_months(clock.now(), -12),
            )
            assert tier_name("en", LoyaltyRules().held_tier(row.held, row.spend)[0]) == tier

    clock.set(bangkok(2027, 2, 25, 12))
    await seen("Gold")
    clock.set(bangkok(2027, 3, 1, 9, 35))
    assert await tick(app, TIERS) == ["automations.tiers"]
    await seen("Silver")


async def test_a_sale_that_reaches_the_next_tier_still_moves_the_member_up_at_once(
    app: App, clock: FrozenClock
) -> None:
    await ensure_branch(app, "asoke")
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    await make_member(app, "Ploy", "0811111111", user_id="m1", locale="en")
    await owner.say("/sale 0811111111 3000 receipt=R1")
    text = (await Chat(app, user_id="m1", language_code="en").say("/points"))[0].text
    assert "Tier: Silver" in text, text
